"""Fixtures for the security regression tests (issue 13): the same real encrypted stores as tests/core."""

from __future__ import annotations

from tests.core.helpers_common import fresh_fixture, template_fixture  # noqa: F401
