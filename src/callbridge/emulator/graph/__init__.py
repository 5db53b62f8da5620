"""Emulated Microsoft Graph v1.0: users, presence and licences, with OData queries and Graph errors."""
