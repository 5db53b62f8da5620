"""Emulated Microsoft Entra ID: app registrations, the OAuth 2.0 token endpoint, discovery and keys."""
