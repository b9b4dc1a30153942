"""The sexual-safety taxonomy: incident types, code lists, harm scales and derived values (core layer).

The data lives in resources/taxonomy.toml; this package loads and validates it. Public API:

    load_taxonomy(path=None) -> Taxonomy      the shipped file is cached; a bad file raises ConfigError
    Taxonomy, IncidentType, Option, AgeBand, HarmLevel
    derive_pair(people) -> str               e.g. 'patient_on_staff', or 'mixed'
    derive_pd09(physical, psychological) -> int   NRLS degree of harm, 1 no harm ... 5 death
    is_restricted(types, people) -> bool     the one restriction rule (SS-STAFF, or any staff perpetrator)
    ASSAULT_CODES, needs_harm_confirmation(types, harms, flags=())
"""

from core.taxonomy.derive import (
    ASSAULT_CODES,
    HARM_CHECK_CODES,
    PD09_LABELS,
    STAFF_PERSON_TYPES,
    all_pairs,
    derive_pair,
    derive_pd09,
    is_restricted,
    is_staff,
    needs_harm_confirmation,
    pair_label,
)
from core.taxonomy.loader import DEFAULT_TAXONOMY_PATH, RESOURCES, load_taxonomy
from core.taxonomy.model import AgeBand, HarmLevel, IncidentType, Option, Taxonomy

__all__ = [
    "ASSAULT_CODES",
    "DEFAULT_TAXONOMY_PATH",
    "HARM_CHECK_CODES",
    "PD09_LABELS",
    "RESOURCES",
    "STAFF_PERSON_TYPES",
    "AgeBand",
    "HarmLevel",
    "IncidentType",
    "Option",
    "Taxonomy",
    "all_pairs",
    "derive_pair",
    "derive_pd09",
    "is_restricted",
    "is_staff",
    "load_taxonomy",
    "needs_harm_confirmation",
    "pair_label",
]
