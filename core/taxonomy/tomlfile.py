"""Reading a versioned TOML data file and checking its entries (core layer).

Shared by the taxonomy and the rules loaders, so that every problem with a data file is reported the same
way: a ConfigError naming the file, the entry and the problem.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from core.errors import ConfigError

SUPPORTED_VERSION = 1


def read_toml(path: Path) -> dict[str, Any]:
    """Parse `path` and check its `version`; every failure is a ConfigError naming the file."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), "file", "the file does not exist") from None
    except OSError as err:
        raise ConfigError(str(path), "file", f"the file cannot be read ({err.strerror})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), "file", f"this is not valid TOML ({err})") from None
    version = data.get("version")
    if version != SUPPORTED_VERSION:
        raise ConfigError(
            str(path), "version", f"expected version = {SUPPORTED_VERSION} at the top of the file, found {version!r}"
        )
    return data


class EntryReader:
    """Typed access to one table of a data file; each failed check raises a ConfigError for that entry."""

    def __init__(self, file: str, entry: str, table: Any, allowed: set[str] | frozenset[str]):
        self.file, self.entry = file, entry
        if not isinstance(table, dict):
            self.fail("expected a table of settings")
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            self.fail(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
        self.table = table

    def fail(self, problem: str):
        raise ConfigError(self.file, self.entry, problem)

    def has(self, key: str) -> bool:
        return key in self.table

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            self.fail(f"'{key}' is missing")
        if not isinstance(value, str) or not value.strip():
            self.fail(f"'{key}' must be non-empty text")
        return value.strip()

    def boolean(self, key: str, default: bool | None = None) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"'{key}' must be true or false" if key in self.table else f"'{key}' is missing")
        return value

    def integer(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        value = self.table.get(key, default)
        if value is None:
            self.fail(f"'{key}' is missing")
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(f"'{key}' must be a whole number of at least {minimum}")
        return value

    def text_list(self, key: str, min_items: int = 1, max_items: int | None = None) -> tuple[str, ...]:
        value = self.table.get(key)
        if value is None:
            self.fail(f"'{key}' is missing")
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(f"'{key}' must be a list of non-empty texts")
        if len(value) < min_items or (max_items is not None and len(value) > max_items):
            count = f"{min_items} to {max_items}" if max_items else f"at least {min_items}"
            self.fail(f"'{key}' must have {count} items, found {len(value)}")
        return tuple(v.strip() for v in value)

    def code_in(self, key: str, allowed: list[str] | tuple[str, ...] | frozenset[str], default: str | None = None) -> str:
        value = self.text(key, default)
        if value not in allowed:
            self.fail(f"'{key}' is {value!r}, which is not one of: {', '.join(sorted(allowed))}")
        return value
