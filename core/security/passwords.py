"""Password policy after NCSC guidance (core layer): a minimum length and a strength estimate, no composition
rules, no expiry.

The estimate is zxcvbn (the estimator KeePassXC uses), with its frequency lists of common passwords, names and
English words, plus this product's own words and the person's username. A password passes when zxcvbn puts it
at its top score (at least 10^10 guesses): with the Argon2id cost of a key slot, that is years of guessing for
someone holding a copy of the files. NCSC, "Password administration for system owners" (2018): a minimum
length, a deny-list of the most common passwords, no complexity rules and no forced expiry.

The published demo password (`core.paths.DEMO_PASSWORD`) is refused everywhere except in a demo store.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from zxcvbn import zxcvbn

from core.errors import PasswordPolicyError
from core.paths import DEMO_PASSWORD

MIN_LENGTH = 12
MAX_LENGTH = 256
ESTIMATED_LENGTH = 72  # zxcvbn's own limit; a longer password is judged on its first 72 characters
MIN_SCORE = 4  # zxcvbn's top score: at least 10^10 guesses
LOCAL_WORDS = ("lantern", "nhs", "ward", "nurse", "safeguarding", "incident", "password", "admin")
ADVICE = "Three or four random words work well."


@dataclass(frozen=True)
class Estimate:
    """What the password field shows as the person types: whether it will be accepted, and why, in words."""

    acceptable: bool
    words: str


def _refusal(password: str, username: str, allow_demo: bool) -> str:
    """The plain reason `password` is refused, or "" if it is acceptable."""
    if allow_demo and password == DEMO_PASSWORD:
        return ""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters. {ADVICE}"
    if len(password) > MAX_LENGTH:
        return f"Use no more than {MAX_LENGTH} characters."
    folded = password.casefold()
    if " ".join(folded.split()) == DEMO_PASSWORD:
        return "That is the published password of the demo store, so anyone could guess it. Choose another."
    if username and len(username) >= 3 and username.casefold() in folded:
        return "Do not put your username in your password."
    if _is_sequence(folded):
        return "That password is a simple sequence. Choose another."
    result = _zxcvbn(password, username)
    if result["score"] < MIN_SCORE:
        warning = result["feedback"]["warning"]
        return " ".join(part for part in ("That password is too common or too easy to guess.", warning,
                                          f"Choose another. {ADVICE}") if part)
    return ""


def _zxcvbn(password: str, username: str) -> dict:
    inputs = [*LOCAL_WORDS, username] if username else list(LOCAL_WORDS)
    return zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=inputs, max_length=ESTIMATED_LENGTH)


def check_password(password: str, *, username: str = "", allow_demo: bool = False) -> None:
    """Raise PasswordPolicyError with a plain reason if the password is not acceptable.

    `allow_demo` lets the published demo password through; only demo stores pass it."""
    reason = _refusal(password, username, allow_demo)
    if reason:
        raise PasswordPolicyError(reason)


def estimate(password: str, *, username: str = "", allow_demo: bool = False) -> Estimate:
    """The live estimate for a new-password field, in plain words (the same rules as `check_password`)."""
    if not password:
        return Estimate(False, f"Use at least {MIN_LENGTH} characters. {ADVICE}")
    if len(password) < MIN_LENGTH:
        more = MIN_LENGTH - len(password)
        return Estimate(False, f"Too short: {more} more character{'s' if more > 1 else ''} needed. {ADVICE}")
    reason = _refusal(password, username, allow_demo)
    if reason:
        return Estimate(False, f"Not accepted. {reason}")
    if allow_demo and password == DEMO_PASSWORD:
        return Estimate(True, "The demo store's published password: for made-up records only.")
    if _zxcvbn(password, username)["guesses_log10"] >= 14:
        return Estimate(True, "Strong: this would take a very long time to guess.")
    return Estimate(True, "Strong enough. A longer password, such as one more random word, is stronger still.")


def _is_sequence(text: str) -> bool:
    rows = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm")
    return any(text in row or text in row[::-1] for row in rows)


TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to read out and to type


def temporary_password() -> str:
    """A temporary password for one sign-in: four groups of four random letters and digits (about 79 bits), so
    it stays strong even against someone with a copy of the key file. Random characters rather than words, so
    it can never spell something unkind, and it still passes the policy."""
    while True:
        candidate = "-".join("".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4))
        try:
            check_password(candidate)
            return candidate
        except PasswordPolicyError:
            continue
