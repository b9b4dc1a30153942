"""Every hazard in the clinical safety log names at least one test, and every named test exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
NODE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")}


def test_every_hazard_names_a_test_and_every_named_test_exists():
    rows = [line for line in LOG.read_text(encoding="utf-8").splitlines() if re.match(r"^\| H\d\d ", line)]
    assert len(rows) >= 10
    for row in rows:
        hazard = row.split("|")[1].strip()
        named = NODE.findall(row)
        assert named, f"{hazard} names no test"
        for file, test in named:
            path = ROOT / file
            assert path.exists(), f"{hazard}: {file} does not exist"
            if test:
                assert test in _tests_in(path), f"{hazard}: {file}::{test} does not exist"
