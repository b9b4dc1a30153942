"""The sexual-safety taxonomy as frozen values: incident types, code lists and harm scales (core layer)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Code lists held by a Taxonomy, by the name of their table in taxonomy.toml.
SECTIONS = (
    "incident_types",
    "person_roles",
    "person_types",
    "sexes",
    "age_bands",
    "police_wishes",
    "locations",
    "shifts",
    "harm_physical",
    "harm_psychological",
    "context_flags",
    "service_types",
)

INCIDENT_CATEGORIES = (
    "assault",
    "staff_misconduct",
    "harassment",
    "exposure",
    "privacy",
    "exploitation",
    "consensual_activity",
    "disclosure",
    "domestic_abuse",
    "other",
)


@dataclass(frozen=True)
class IncidentType:
    code: str
    label: str
    definition: str
    examples: tuple[str, ...]
    basis: str
    cqc_bucket: str
    category: str
    possible_offence: bool


@dataclass(frozen=True)
class Option:
    """One entry of a code list: a stable code and the label staff see."""

    code: str
    label: str
    lfpse: int | None = None


@dataclass(frozen=True)
class AgeBand:
    """An LFPSE age bracket; both year limits are inclusive and max_years is None when open-ended."""

    code: str
    label: str
    lfpse: int
    min_years: int
    max_years: int | None

    def wholly_under(self, years: int) -> bool:
        return self.max_years is not None and self.max_years < years


@dataclass(frozen=True)
class HarmLevel:
    """One level of a harm scale; `rank` is 0 for no harm and rises with severity."""

    code: str
    label: str
    guidance: str
    lfpse: int
    rank: int


@dataclass(frozen=True)
class Taxonomy:
    version: int
    source: str
    incident_types: tuple[IncidentType, ...]
    person_roles: tuple[Option, ...]
    person_types: tuple[Option, ...]
    sexes: tuple[Option, ...]
    age_bands: tuple[AgeBand, ...]
    police_wishes: tuple[Option, ...]
    locations: tuple[Option, ...]
    shifts: tuple[Option, ...]
    harm_physical: tuple[HarmLevel, ...]
    harm_psychological: tuple[HarmLevel, ...]
    context_flags: tuple[Option, ...]
    service_types: tuple[Option, ...]
    _index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        index = {name: {entry.code: entry for entry in getattr(self, name)} for name in SECTIONS}
        object.__setattr__(self, "_index", index)

    def codes(self, section: str) -> tuple[str, ...]:
        """The codes of one code list, in display order."""
        return tuple(self._index[section])

    def has(self, section: str, code: str) -> bool:
        return code in self._index[section]

    def entry(self, section: str, code: str):
        """The entry for `code` in `section`; KeyError if there is none."""
        return self._index[section][code]

    def label(self, section: str, code: str) -> str:
        """The label staff see for `code`, or the code itself if the taxonomy does not know it."""
        found = self._index[section].get(code)
        return found.label if found else code

    @property
    def type_codes(self) -> tuple[str, ...]:
        return self.codes("incident_types")

    def incident_type(self, code: str) -> IncidentType:
        return self._index["incident_types"][code]

    def type_label(self, code: str) -> str:
        return self.label("incident_types", code)

    def codes_in_category(self, category: str) -> frozenset[str]:
        return frozenset(t.code for t in self.incident_types if t.category == category)

    def age_band(self, code: str) -> AgeBand:
        return self._index["age_bands"][code]

    def harm_level(self, scale: str, code: str) -> HarmLevel:
        """`scale` is "physical" or "psychological"."""
        return self._index[f"harm_{scale}"][code]
