"""Emulated ACS Call Automation: call engine, REST routes, HMAC auth, signed callbacks."""
