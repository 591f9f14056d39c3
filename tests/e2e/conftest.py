"""Browser tests: the `server` and `browser` fixtures are in tests/conftest.py (shared with security)."""
