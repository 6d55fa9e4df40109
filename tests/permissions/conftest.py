"""The permissions suite runs on the API suite's emulated stack, personas and factories."""

from tests.api.conftest import api, facebook, personas, stack, team  # noqa: F401
