"""The local cloud: ACS Call Automation, Event Grid, the phone network and a Teams tenant, emulated."""
