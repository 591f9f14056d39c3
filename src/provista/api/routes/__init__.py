"""One module per domain; each exposes ``router``."""
