"""A pure detector of personal identifiers in free text (core layer): NHS numbers, dates of birth, phones,
postcodes and email addresses. It warns; it never blocks or changes what was typed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

KINDS = {
    "nhs_number": "an NHS number",
    "date_of_birth": "a date of birth",
    "phone": "a phone number",
    "postcode": "a postcode",
    "email": "an email address",
}

# Ten digits in any grouping: each gap between two digits may hold up to two spaces, dots or dashes
# ("943 476 5919", "943.476.5919", "943 4765 919", "9434765919"). The modulus-11 check decides.
_SEP = r"[ .\-]{0,2}"
_NHS = re.compile(r"(?<!\d)\d(?:" + _SEP + r"\d){9}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)44[\s.-]?(?:\(0\)[\s.-]?)?|\(?0)(?:\d[\s).-]{0,2}){8,9}\d(?!\d)")
# Postcodes in any case ("SW1A 1AA", "sw1a 1aa", "Sw1a1aa"). The inward part never uses C I K M O V.
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)$", re.IGNORECASE)  # "ward b2 4th floor" is not a postcode
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WORD_DATE = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + "|".join(_MONTHS)
                        + r")[a-z]*\.?,?\s+(\d{4})(?!\d)", re.IGNORECASE)
_BIRTH_WORDS = re.compile(r"(d\.?\s?o\.?\s?b\.?|date of birth|born|birthday)\W{0,3}(on\W{0,2})?$", re.IGNORECASE)
_DIGITS = re.compile(r"\d")
OLD_DATE_YEARS = 10  # a full date this many years back is more likely a birth date than an incident date


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    start: int
    end: int


def nhs_number_valid(digits: str) -> bool:
    """The NHS number modulus-11 check: weights 10..2 on the first nine digits give the tenth."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _year(text: str, today: date) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year <= today.year % 100 else 1900
    return year


def _dates(text: str, today: date):
    for m in _NUMERIC_DATE.finditer(text):
        day, month = int(m.group(1)), int(m.group(2))
        if 1 <= day <= 31 and 1 <= month <= 12:
            yield m, _year(m.group(3), today)
    for m in _WORD_DATE.finditer(text):
        if 1 <= int(m.group(1)) <= 31:
            yield m, int(m.group(3))
    for m in _ISO_DATE.finditer(text):
        if 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
            yield m, int(m.group(1))


def find_pid(text: str, *, today: date | None = None) -> list[Finding]:
    """Spans of `text` that look like personal identifiers, in text order, never overlapping."""
    today = today or date.today()
    if not text:
        return []
    found: list[Finding] = []
    # Every kind holds a digit except an email address. An earlier kind wins a span both would claim.
    for finder in _FINDERS if _DIGITS.search(text) else (_emails,):
        for kind, start, end in finder(text, today):
            if not any(f.start < end and start < f.end for f in found):
                found.append(Finding(kind, start, end))
    return sorted(found, key=lambda f: f.start)


def _emails(text: str, _today: date):
    for m in _EMAIL.finditer(text) if "@" in text else ():
        yield "email", m.start(), m.end()


def _nhs_numbers(text: str, _today: date):
    for m in _NHS.finditer(text):
        if nhs_number_valid("".join(_DIGITS.findall(m.group()))):
            yield "nhs_number", m.start(), m.end()


def _births(text: str, today: date):
    for m, year in _dates(text, today):
        before = text[max(0, m.start() - 20):m.start()]
        if _BIRTH_WORDS.search(before) or year <= today.year - OLD_DATE_YEARS:
            yield "date_of_birth", m.start(), m.end()


def _phones(text: str, _today: date):
    for m in _PHONE.finditer(text):
        digits = "".join(_DIGITS.findall(m.group().replace("(0)", "")))
        national = digits[2:] if digits.startswith("44") else digits[4:] if digits.startswith("0044") else digits[1:]
        if len(national) in (9, 10):
            yield "phone", m.start(), m.end()


def _postcodes(text: str, _today: date):
    for m in _POSTCODE.finditer(text):
        if m.group().isupper() or not _ORDINAL.search(m.group()):
            yield "postcode", m.start(), m.end()


_FINDERS = (_emails, _nhs_numbers, _births, _phones, _postcodes)


def warning_for(findings: list[Finding]) -> str:
    """One plain sentence for the person typing, or "" when nothing was found."""
    kinds = [KINDS[k] for k in KINDS if any(f.kind == k for f in findings)]
    if not kinds:
        return ""
    listed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
    return (f"This text may contain {listed}. Please take it out and use a pseudonymous reference instead "
            "(initials or hospital number, never a name). You can still carry on.")
