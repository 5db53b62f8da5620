"""callbridge: bring Microsoft Teams users into Azure Communication Services calls, and a local cloud to run it offline."""

__version__ = "0.1.0"
