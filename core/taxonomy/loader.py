"""Loading and validating resources/taxonomy.toml into a Taxonomy (core layer)."""

from __future__ import annotations

import functools
from pathlib import Path

from core.errors import ConfigError
from core.taxonomy.model import INCIDENT_CATEGORIES, AgeBand, HarmLevel, IncidentType, Option, Taxonomy
from core.taxonomy.tomlfile import EntryReader, read_toml

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
DEFAULT_TAXONOMY_PATH = RESOURCES / "taxonomy.toml"

# The harm scales are LFPSE's and the code relies on them exactly (least harm first).
PHYSICAL_LEVELS = ("none", "low", "moderate", "severe", "fatal")
PSYCHOLOGICAL_LEVELS = ("none", "low", "moderate", "severe")

# Codes that Lantern's own code refers to by name, so the file must keep them.
REQUIRED_CODES = {
    "person_roles": {"affected", "alleged_perpetrator", "witness"},
    "person_types": {"patient", "staff", "visitor", "other", "unknown"},
    "sexes": {"unknown"},
    "locations": {"unknown"},
    "context_flags": {"penetration_alleged"},
    "service_types": {"camhs"},
}

_OPTION_SECTIONS = ("person_roles", "person_types", "police_wishes", "locations", "shifts", "context_flags",
                    "service_types")


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy file; the shipped file is read once and cached."""
    if path is None:
        return _load_default()
    return _load(Path(path))


@functools.cache
def _load_default() -> Taxonomy:
    return _load(DEFAULT_TAXONOMY_PATH)


def _load(path: Path) -> Taxonomy:
    data = read_toml(path)
    file = str(path)
    allowed_top = {"version", "incident_types", "sexes", "age_bands", "harm_physical", "harm_psychological",
                   *_OPTION_SECTIONS}
    unknown = sorted(set(data) - allowed_top)
    if unknown:
        raise ConfigError(file, unknown[0], "unknown section (check the spelling)")

    sections = {name: _entries(file, data, name, _option) for name in _OPTION_SECTIONS}
    sections["incident_types"] = _entries(file, data, "incident_types", _incident_type)
    sections["sexes"] = _entries(file, data, "sexes", _lfpse_option)
    sections["age_bands"] = _entries(file, data, "age_bands", _age_band)
    sections["harm_physical"] = _harm_scale(file, data, "harm_physical", PHYSICAL_LEVELS)
    sections["harm_psychological"] = _harm_scale(file, data, "harm_psychological", PSYCHOLOGICAL_LEVELS)

    for name, required in REQUIRED_CODES.items():
        missing = sorted(required - {entry.code for entry in sections[name]})
        if missing:
            raise ConfigError(file, name, f"code {missing[0]!r} is missing; Lantern needs it")
    return Taxonomy(version=data["version"], source=file, **sections)


def _entries(file: str, data: dict, name: str, build) -> tuple:
    raw = data.get(name)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(file, name, "this list is missing or empty (write each entry as [[" + name + "]])")
    entries, seen = [], set()
    for position, table in enumerate(raw, start=1):
        code = table.get("code") if isinstance(table, dict) else None
        entry_name = f"{name} entry {position}" + (f" ({code})" if isinstance(code, str) else "")
        entry = build(file, entry_name, table)
        if entry.code in seen:
            raise ConfigError(file, entry_name, f"code {entry.code!r} is used twice")
        seen.add(entry.code)
        entries.append(entry)
    return tuple(entries)


def _option(file: str, entry: str, table) -> Option:
    read = EntryReader(file, entry, table, {"code", "label"})
    return Option(code=read.text("code"), label=read.text("label"))


def _lfpse_option(file: str, entry: str, table) -> Option:
    read = EntryReader(file, entry, table, {"code", "label", "lfpse"})
    return Option(code=read.text("code"), label=read.text("label"), lfpse=read.integer("lfpse", minimum=1))


def _incident_type(file: str, entry: str, table) -> IncidentType:
    read = EntryReader(file, entry, table, {"code", "label", "definition", "examples", "basis", "cqc_bucket",
                                            "category", "possible_offence"})
    code = read.text("code")
    if not code.startswith("SS-") or not code.replace("-", "").isalnum() or code.upper() != code:
        read.fail(f"code {code!r} must look like SS-XXX (capitals, digits and hyphens)")
    return IncidentType(
        code=code,
        label=read.text("label"),
        definition=" ".join(read.text("definition").split()),
        examples=read.text_list("examples", min_items=1, max_items=2),
        basis=read.text("basis"),
        cqc_bucket=read.text("cqc_bucket"),
        category=read.code_in("category", INCIDENT_CATEGORIES),
        possible_offence=read.boolean("possible_offence"),
    )


def _age_band(file: str, entry: str, table) -> AgeBand:
    read = EntryReader(file, entry, table, {"code", "label", "lfpse", "min_years", "max_years"})
    band = AgeBand(
        code=read.text("code"),
        label=read.text("label"),
        lfpse=read.integer("lfpse", minimum=1),
        min_years=read.integer("min_years"),
        max_years=read.integer("max_years") if read.has("max_years") else None,
    )
    if band.max_years is not None and band.max_years < band.min_years:
        read.fail("'max_years' is smaller than 'min_years'")
    return band


def _harm_scale(file: str, data: dict, name: str, expected: tuple[str, ...]) -> tuple[HarmLevel, ...]:
    def build(file: str, entry: str, table) -> HarmLevel:
        read = EntryReader(file, entry, table, {"code", "label", "guidance", "lfpse"})
        return HarmLevel(code=read.text("code"), label=read.text("label"), guidance=read.text("guidance"),
                         lfpse=read.integer("lfpse", minimum=1), rank=-1)

    levels = _entries(file, data, name, build)
    codes = tuple(level.code for level in levels)
    if codes != expected:
        raise ConfigError(file, name, f"the levels must be exactly {', '.join(expected)} in that order "
                                      f"(least harm first); found {', '.join(codes)}")
    return tuple(HarmLevel(lv.code, lv.label, lv.guidance, lv.lfpse, rank) for rank, lv in enumerate(levels))
