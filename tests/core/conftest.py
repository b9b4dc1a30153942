"""Fixtures for the core tests: the session's template store, copied per test (tests/core/helpers_common.py)."""

from tests.core.helpers_common import fresh_fixture, template_fixture  # noqa: F401
