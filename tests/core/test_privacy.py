"""The PID detector (core): NHS numbers by modulus 11, dates of birth, UK phones, postcodes, emails."""

from __future__ import annotations

from datetime import date

import pytest

from core.privacy import find_pid, nhs_number_valid, warning_for

TODAY = date(2026, 11, 27)


def synthetic_nhs(base: str) -> str:
    """Complete nine synthetic digits (the 999 test range) with their modulus-11 check digit."""
    total = sum(int(d) * w for d, w in zip(base, range(10, 1, -1)))
    check = (11 - total % 11) % 11
    assert check != 10, "choose another base: this one has no valid check digit"
    return base + str(check)


VALID = synthetic_nhs("999000001")
INVALID = VALID[:9] + str((int(VALID[9]) + 1) % 10)


def kinds(text: str) -> list[str]:
    return [f.kind for f in find_pid(text, today=TODAY)]


def test_modulus_11():
    assert nhs_number_valid(VALID)
    assert not nhs_number_valid(INVALID)
    assert not nhs_number_valid("12345")
    # a base whose check digit would be 10 is never valid, whatever the last digit
    bad_base = next(b for b in (f"99900{i:04d}" for i in range(200))
                    if (11 - sum(int(d) * w for d, w in zip(b, range(10, 1, -1))) % 11) == 10)
    assert not any(nhs_number_valid(bad_base + str(d)) for d in range(10))


@pytest.mark.parametrize("text", [f"NHS no {VALID} on the ward", f"{VALID[:3]} {VALID[3:6]} {VALID[6:]}",
                                  f"{VALID[:3]}-{VALID[3:6]}-{VALID[6:]}"])
def test_valid_nhs_number_found(text):
    assert kinds(text) == ["nhs_number"]


def test_invalid_nhs_number_is_not_called_one():
    assert "nhs_number" not in kinds(f"ref {INVALID}")


@pytest.mark.parametrize("text", ["DOB 12/03/1985", "d.o.b. 4-5-79", "born on 4th March 2001", "12 Feb 1990"])
def test_dates_of_birth(text):
    assert kinds(text) == ["date_of_birth"]


def test_recent_dates_are_incident_dates_not_births():
    assert kinds("On 26/11/2026 at 21:40 in the lounge") == []


@pytest.mark.parametrize("text", ["call 07700 900123", "07700900123", "+44 7700 900123", "020 7946 0018",
                                  "(020) 7946 0018"])
def test_phone_numbers(text):
    assert kinds(text) == ["phone"]


def test_postcode_and_email():
    assert kinds("lives at ZZ99 3AA") == ["postcode"]
    assert kinds("email pt.x@example.org please") == ["email"]


def test_ordinary_ward_text_is_quiet():
    text = ("Patient AB in bed 4 touched staff member CD at 21:40 in the lounge. Observations raised to level 2; "
            "ward b2 4th floor. Aged 34.")
    assert find_pid(text, today=TODAY) == []
    assert warning_for([]) == ""


def test_spans_and_warning():
    text = f"NHS {VALID}, phone 07700 900123"
    found = find_pid(text, today=TODAY)
    assert [text[f.start:f.end] for f in found] == [VALID, "07700 900123"]
    message = warning_for(found)
    assert "an NHS number or a phone number" in message and "pseudonymous" in message
