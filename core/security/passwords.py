"""Password policy after NCSC guidance (core layer): length and a deny-list, no composition rules, no expiry."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from core.errors import PasswordPolicyError

MIN_LENGTH = 12
MAX_LENGTH = 256
DENY_LIST = Path(__file__).resolve().parents[2] / "resources" / "common-passwords.txt"
_WORDS = "ash bell cove dune elm fern glen hill iris jade kite lark moss nest oak pine quay reed sage tide vale wren yew".split()


@lru_cache(maxsize=1)
def _deny_list() -> frozenset[str]:
    lines = DENY_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def _core(password: str) -> str:
    """The password with digits and symbols trimmed from both ends, lower-cased."""
    text = password.casefold()
    return text.strip("0123456789!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~ ")


def check_password(password: str, *, username: str = "") -> None:
    """Raise PasswordPolicyError with a plain reason if the password is not acceptable."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"Use at least {MIN_LENGTH} characters. Three random words work well.")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"Use no more than {MAX_LENGTH} characters.")
    folded = password.casefold()
    common = _deny_list()
    core = _core(password)
    if folded in common or core in common or (core and len(set(core)) <= 2):
        raise PasswordPolicyError("That password is too common and easy to guess. Choose another.")
    if folded.replace(" ", "") in {"lantern" * 2, "lanternlantern1"} or core in {"lantern", "nhs", "ward"}:
        raise PasswordPolicyError("That password is too easy to guess here. Choose another.")
    if username and len(username) >= 3 and username.casefold() in folded:
        raise PasswordPolicyError("Do not put your username in your password.")
    if _is_sequence(folded):
        raise PasswordPolicyError("That password is a simple sequence. Choose another.")


def _is_sequence(text: str) -> bool:
    rows = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm")
    return any(text in row or text in row[::-1] for row in rows)


def temporary_password() -> str:
    """A readable temporary password that passes the policy (three words and four digits)."""
    while True:
        candidate = "-".join(secrets.choice(_WORDS) for _ in range(3)) + f"-{secrets.randbelow(10000):04d}"
        try:
            check_password(candidate)
            return candidate
        except PasswordPolicyError:
            continue
