"""The API tests' app (the tiny province's warehouse with the demo accounts) for the privacy tests."""

from tests.api.conftest import app  # noqa: F401
