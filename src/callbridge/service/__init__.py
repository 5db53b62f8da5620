"""The call-control service: answers ACS calls and brings Teams users in by name, on Azure or the local cloud."""
