"""Emulated Event Grid: subscriptions, validation handshake, delivery with retries, dead letters."""
