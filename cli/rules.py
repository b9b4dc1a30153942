"""`python main.py rules check FILE.json`: the actions one incident would create, as JSON (cli layer).

No store is needed. Bad input gives one plain line on stderr and exit status 2; a bad rules or override
file gives one line and status 1. Never a traceback.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from core.errors import ConfigError, ValidationError
from core.rules.engine import RequiredAction, evaluate
from core.rules.facts import facts_from_json
from core.rules.ruleset import load_rules
from core.taxonomy import load_taxonomy

EXIT_OK, EXIT_CONFIG, EXIT_BAD_INPUT = 0, 1, 2


def action_to_json(action: RequiredAction) -> dict:
    """The output object for one action (docs/incident-json.md)."""
    return {
        "rule": action.rule_id,
        "title": action.title,
        "due": action.due.replace(microsecond=0).isoformat(),
        "owner_role": action.owner_role,
        "mandatory": action.mandatory,
        "basis": action.basis_label,
        "requires_reference": action.requires_reference,
        "checks": list(action.kinds) if action.kinds != (action.rule_id,) else [],
        "window_closed_at": action.window_closed_at.replace(microsecond=0).isoformat()
        if action.window_closed_at else None,
        "source": action.source,
    }


def rules_check(path: str, stdout: TextIO, stderr: TextIO, override_path: str | None = None) -> int:
    """Read one incident from the JSON file at `path`, print its actions as a JSON list; return the exit code."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a byte-order mark (as Notepad writes) is fine
    except FileNotFoundError:
        return _fail(stderr, f"Cannot read {path}: there is no such file.", EXIT_BAD_INPUT)
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else "it is not UTF-8 text"
        return _fail(stderr, f"Cannot read {path}: {reason}.", EXIT_BAD_INPUT)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        return _fail(stderr, f"{path} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}.",
                     EXIT_BAD_INPUT)
    except RecursionError:
        return _fail(stderr, f"{path} is nested too deeply to be an incident (see docs/incident-json.md).",
                     EXIT_BAD_INPUT)
    try:
        taxonomy = load_taxonomy()
        ruleset = load_rules(override_path=Path(override_path)) if override_path else load_rules()
    except ConfigError as err:
        return _fail(stderr, f"The rules cannot be loaded: {err}", EXIT_CONFIG)
    try:
        facts = facts_from_json(obj, taxonomy, now=datetime.now(UTC))
        actions = evaluate(facts, ruleset)
    except ValidationError as err:
        return _fail(stderr, f"{path}: {_by_field(err)}", EXIT_BAD_INPUT)
    except (OverflowError, RecursionError):
        return _fail(stderr, f"{path}: a date is too far from today to work out deadlines "
                             "(use a real date and time).", EXIT_BAD_INPUT)
    json.dump([action_to_json(a) for a in actions], stdout, indent=2, ensure_ascii=False)
    stdout.write("\n")
    return EXIT_OK


def _by_field(err: ValidationError) -> str:
    """'people[0].age_years: must be ...; reported_at: ...': every problem with the field it is about."""
    parts = [f"{name}: {message}" if name else message for name, message in err.field_errors.items()]
    return "; ".join(parts)


def _fail(stderr: TextIO, message: str, code: int) -> int:
    stderr.write(" ".join(message.split()) + "\n")
    return code
