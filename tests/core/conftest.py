"""The core tests run on both engines (issue 16, item 1; tests/both_engines.py): every test that asks for a store
(`make_store`, `fresh`, `store_folder`) runs as `[sqlcipher]` and as `[postgresql]`, unless it is marked
`sqlcipher_only("why")` because it tests what only the embedded store has."""

from __future__ import annotations


def pytest_generate_tests(metafunc):
    if "engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker("sqlcipher_only") is None:
        metafunc.parametrize("engine", ["sqlcipher", "postgresql"], indirect=True, scope="module")
