"""Emulated Microsoft Teams tenant: users, admin rules, simulated Teams clients."""
