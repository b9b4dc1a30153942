"""The PID detector (core): NHS numbers by modulus 11, dates of birth, UK phones, postcodes, emails."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ----- generated variants (issue 14): any grouping, any case -------------------------------------------------

_SEPARATORS = st.sampled_from(["", " ", ".", "-", "  ", ". ", " -", "--"])
_BEFORE = st.sampled_from(["", "NHS no ", "nhs: ", "NHS no.", "Patient's number is ", "("])
_AFTER = st.sampled_from(["", " on the ward.", ".", ")", ", seen at 21:40"])


@st.composite
def nhs_numbers(draw) -> str:
    """A valid synthetic NHS number (999 test range) with random separators between its digits."""
    base = draw(st.from_regex(r"999\d{6}", fullmatch=True).filter(
        lambda b: (11 - sum(int(d) * w for d, w in zip(b, range(10, 1, -1))) % 11) != 10))
    digits = synthetic_nhs(base)
    seps = draw(st.lists(_SEPARATORS, min_size=9, max_size=9))
    return digits[0] + "".join(s + d for s, d in zip(seps, digits[1:]))


@settings(max_examples=300, deadline=None)
@given(number=nhs_numbers(), before=_BEFORE, after=_AFTER)
def test_nhs_number_in_any_grouping_is_found(number, before, after):
    text = before + number + after
    found = find_pid(text, today=TODAY)
    assert [(f.kind, text[f.start:f.end]) for f in found if f.kind == "nhs_number"] == [("nhs_number", number)]


@settings(max_examples=200, deadline=None)
@given(number=nhs_numbers())
def test_wrong_check_digit_is_not_an_nhs_number(number):
    last = number[-1]
    wrong = number[:-1] + str((int(last) + 1) % 10)
    assert "nhs_number" not in kinds(f"ref {wrong} noted")


_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@st.composite
def postcodes(draw) -> str:
    outward = draw(st.sampled_from([r"[A-Z]\d", r"[A-Z]\d\d", r"[A-Z]{2}\d", r"[A-Z]{2}\d\d", r"[A-Z]\d[A-Z]",
                                    r"[A-Z]{2}\d[A-Z]"]))
    code = draw(st.from_regex(outward, fullmatch=True)) + draw(st.sampled_from(["", " "]))
    code += draw(st.from_regex(rf"\d[{_INWARD_LETTERS}]{{2}}", fullmatch=True))
    cases = draw(st.lists(st.booleans(), min_size=len(code), max_size=len(code)))
    return "".join(ch.lower() if lower else ch for ch, lower in zip(code, cases))


@settings(max_examples=300, deadline=None)
@given(code=postcodes(), before=st.sampled_from(["lives at ", "", "address: 12 High St, "]), after=_AFTER)
def test_postcode_in_any_case_is_found(code, before, after):
    # Lower-case ordinals ("b2 4th floor") are deliberately quiet: ward text says "4th" far more often.
    assume_not_ordinal = code.isupper() or code[-2:].lower() not in ("st", "nd", "rd", "th")
    text = before + code + after
    if assume_not_ordinal:
        assert [(f.kind, text[f.start:f.end]) for f in find_pid(text, today=TODAY)] == [("postcode", code)]


@st.composite
def phones(draw) -> str:
    national = draw(st.sampled_from(["07700900", "02079460", "01632960", "07700123"])) + draw(
        st.from_regex(r"\d{3}", fullmatch=True))
    prefix = draw(st.sampled_from(["0", "+44 ", "+44", "0044 ", "+44 (0)"]))
    groups = draw(st.sampled_from([(4, 6), (3, 4, 3), (4, 3, 3), (10,)]))
    sep = draw(st.sampled_from([" ", "-", "."]))
    parts, at = [], 1
    for size in groups:
        parts.append(national[at:at + size])
        at += size
    return prefix + sep.join(parts)


@settings(max_examples=200, deadline=None)
@given(phone=phones(), before=st.sampled_from(["call ", "tel: ", "mother's number "]), after=_AFTER)
def test_phone_numbers_are_found(phone, before, after):
    text = before + phone + after
    found = find_pid(text, today=TODAY)
    assert len(found) == 1 and found[0].kind in ("phone", "nhs_number")
    assert text[found[0].start:found[0].end].strip(" (") in phone


@settings(max_examples=200, deadline=None)
@given(local=st.from_regex(r"[a-z][a-z0-9._+-]{0,15}[a-z0-9]", fullmatch=True),
       domain=st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(nhs\.uk|org|co\.uk|com)", fullmatch=True))
def test_email_addresses_are_found(local, domain):
    address = f"{local}@{domain}"
    text = f"emailed {address} today"
    assert [(f.kind, text[f.start:f.end]) for f in find_pid(text, today=TODAY)] == [("email", address)]


_MONTH_NAMES = ["January", "Feb", "march", "Apr.", "MAY", "June", "Jul", "August", "Sept", "oct", "November", "Dec"]


@settings(max_examples=200, deadline=None)
@given(born=st.dates(min_value=date(1930, 1, 1), max_value=date(2014, 12, 31)),
       style=st.sampled_from(["{d:02d}/{m:02d}/{y}", "{d}-{m}-{y}", "{d}.{m}.{y}", "{y}-{m:02d}-{d:02d}",
                              "{d} {mon} {y}", "{d}th of {mon} {y}"]),
       words=st.sampled_from(["DOB ", "d.o.b. ", "date of birth: ", "born on ", ""]))
def test_dates_of_birth_in_many_forms(born, style, words):
    written = style.format(d=born.day, m=born.month, y=born.year, mon=_MONTH_NAMES[born.month - 1])
    text = f"Patient {words}{written} was admitted"
    found = find_pid(text, today=TODAY)
    assert [(f.kind, text[f.start:f.end]) for f in found] == [("date_of_birth", written)]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ,.;:'"), max_size=200))
def test_text_without_digits_or_at_signs_is_quiet(text):
    assert find_pid(text, today=TODAY) == []
