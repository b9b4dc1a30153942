"""The security tests run on both engines where they take a store, as the core tests do (tests/core/conftest.py):
`[sqlcipher]` and `[postgresql]`, unless marked `sqlcipher_only("why")`."""

from __future__ import annotations

from tests.core.conftest import pytest_generate_tests  # noqa: F401  (the hook)
