"""Writes the safeguarding rule catalogue (docs/safeguarding-rules.md) from the rules data (core layer).

Run `python -m core.rules.catalogue > docs/safeguarding-rules.md` after changing resources/rules.toml;
a test fails if the committed document and the data disagree.
"""

from __future__ import annotations

import sys

from core.rules.conditions import NOT_KNOWN, Condition
from core.rules.ruleset import Rule, RuleSet, load_rules
from core.taxonomy import Taxonomy, load_taxonomy

ROLE_LABELS = {"nurse": "Nurse", "ward_manager": "Ward manager", "safeguarding_lead": "Safeguarding lead"}


def _labels(taxonomy: Taxonomy, section: str, codes, with_codes: bool = False) -> str:
    codes = [codes] if isinstance(codes, str) else list(codes)
    order = taxonomy.codes(section)
    codes.sort(key=lambda c: order.index(c) if c in order else len(order))
    names = [f"{taxonomy.label(section, c)} (`{c}`)" if with_codes else taxonomy.label(section, c).lower()
             for c in codes]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


_YES_NO = {
    "detained": ("who is detained under the Mental Health Act", "who is not detained",
                 "for whom nobody has recorded whether they are detained"),
    "capacity_concern": ("whose capacity is in doubt", "whose capacity is not in doubt",
                         "for whom nobody has recorded whether their capacity is in doubt"),
    "care_support_needs": ("with care and support needs", "without care and support needs",
                           "for whom nobody has recorded whether they have care and support needs"),
    "could_become_pregnant": ("who could become pregnant", "who cannot become pregnant",
                              "for whom nobody has recorded whether they could become pregnant"),
    "linked_user": ("who has a Lantern account", "who has no Lantern account", "who may have a Lantern account"),
}


def _person_words(table: dict, taxonomy: Taxonomy) -> str:
    who = _labels(taxonomy, "person_roles", table["role"]) if "role" in table else "person involved"
    parts = []
    if "type" in table:
        parts.append(f"who is a {_labels(taxonomy, 'person_types', table['type'])}")
    for key, (if_true, if_false, if_unknown) in _YES_NO.items():
        if key in table:
            parts.append(if_unknown if table[key] == NOT_KNOWN else if_true if table[key] else if_false)
    parts += [words(table[key], taxonomy) for key, words in _PERSON_WORDS if key in table]
    return f"an {who}" if not parts else f"a{'n' if who[0] in 'aeiou' else ''} {who} " + ", ".join(parts)


def _police_words(values, taxonomy: Taxonomy) -> str:
    wishes = [w for w in values if w != NOT_KNOWN]
    words = [_labels(taxonomy, "police_wishes", wishes)] if wishes else []
    if NOT_KNOWN in values:
        words.append("not recorded")
    return f"whose wish about the police is: {' or '.join(words)}"


def _sex_words(values, taxonomy: Taxonomy) -> str:
    sexes = f"whose recorded sex is {_labels(taxonomy, 'sexes', values)}"
    return f"{sexes} (or not recorded)" if "unknown" in values else sexes


# A person's other keys in plain words, in the catalogue's order: (key, words for its value).
_PERSON_WORDS = (
    ("age_under", lambda years, _tax: f"known (or presumed) to be under {years}"),
    ("age_not_under", lambda years, _tax: f"not known to be under {years}"),
    ("age_unknown_under",
     lambda years, _tax: f"whose age is not recorded well enough to say whether they are under {years}"),
    ("police_wishes_in", _police_words),
    ("sex_in", _sex_words),
)


def describe_when(table: dict, taxonomy: Taxonomy) -> str:
    """A rule's `when` table in plain words, e.g. 'the incident is coded as Rape (alleged) (`SS-RAPE`)'."""
    return "; and ".join(_clauses(table, taxonomy))


def _clauses(table: dict, taxonomy: Taxonomy) -> list[str]:
    if table.get("always"):
        return ["every incident"]
    return [words(table[key], taxonomy) for key, words in _CLAUSES if key in table]


def _harm_words(levels: dict, _tax: Taxonomy) -> str:
    return ", or ".join(f"the worst {scale} harm is {level} or worse" for scale, level in levels.items())


def _any_of_words(conditions: list, taxonomy: Taxonomy) -> str:
    options = [_nested(c, taxonomy) for c in conditions]
    return options[0] if len(options) == 1 else "either " + "; or ".join(options)


# Each test of a `when` table in plain words, in the catalogue's order: (key, words for its value).
_CLAUSES = (
    ("types_any", lambda v, tax: f"the incident is coded as {_labels(tax, 'incident_types', v, True)}"),
    ("types_only", lambda v, tax: f"every type it is coded with is {_labels(tax, 'incident_types', v, True)}"),
    ("flags_any", lambda v, tax: f"the incident is flagged: {_flag_labels(tax, v, ' or ')}"),
    ("flags_all", lambda v, tax: f"the incident is flagged: {_flag_labels(tax, v, ' and ')}"),
    ("location_in", lambda v, tax: f"it happened in: {_labels(tax, 'locations', v)}"),
    ("perpetrator_type_in", lambda v, tax: f"an alleged perpetrator is a {_labels(tax, 'person_types', v)}"),
    ("affected_type_in", lambda v, tax: f"an affected person is a {_labels(tax, 'person_types', v)}"),
    ("person", lambda v, tax: f"there is {_person_words(v, tax)}"),
    ("harm_at_least", _harm_words),
    ("occurred_within_hours", lambda v, _tax: f"it was reported within {v} hours of happening"),
    ("reported_after_hours", lambda v, _tax: f"it was reported more than {v} hours after it happened"),
    ("any_of", _any_of_words),
    ("none_of", lambda v, tax: "not when " + "; nor when ".join(_nested(c, tax) for c in v)),
)


def _nested(table: dict, taxonomy: Taxonomy) -> str:
    clauses = _clauses(table, taxonomy)
    return clauses[0] if len(clauses) == 1 else "(" + " and ".join(clauses) + ")"


def _flag_labels(taxonomy: Taxonomy, codes, joiner: str) -> str:
    return joiner.join(f"'{taxonomy.label('context_flags', c)}'" for c in codes)


def _when_text(condition: Condition, taxonomy: Taxonomy) -> str:
    text = describe_when(condition.source or {}, taxonomy)
    return text[0].upper() + text[1:]


def _owner(rule: Rule) -> str:
    return f"{rule.owner_label} (Lantern role: {ROLE_LABELS.get(rule.owner_role, rule.owner_role)})"


def render(ruleset: RuleSet, taxonomy: Taxonomy) -> str:
    """The catalogue as Markdown."""
    lines = [
        "# Safeguarding rules catalogue",
        "",
        "<!-- Generated from resources/rules.toml by `python -m core.rules.catalogue > docs/safeguarding-rules.md`."
        " Do not edit by hand. -->",
        "",
        f"Rules file version {ruleset.version}; {len(ruleset.rules)} rules. When an incident is submitted, Lantern",
        "checks every rule below and creates an action for each rule whose condition holds. A **mandatory** action",
        "must be done, or marked not applicable with a reason, before the incident can be closed; a recommended",
        "action can be closed without that.",
        "",
        "Deadlines are worked out in UK time (Europe/London). *Immediately* means due at the time the incident was",
        "reported. *Within N hours* counts real elapsed hours. *Within N working days* means the same clock time on",
        "the Nth working day after the start day, skipping weekends and England and Wales bank holidays (so one",
        "working day from Thursday 24 December 2026 at 17:00 is Tuesday 29 December 2026 at 17:00). A deadline counted",
        "from the incident can already have passed when it is reported; the action then shows as overdue.",
        "",
        "Every deadline is marked **national** (set by law or national guidance, named in the source) or **local",
        "policy (a trust may change it)** (a sensible default where no national clock exists). The mark is shown",
        "to the nurse with each action and given as `basis` in the output of `rules check`.",
        "",
        "**Not known never removes an action.** Each question that can add a safeguarding action (care and",
        "support needs, capacity, detained, under 18, could become pregnant, police wishes) has three answers:",
        "yes, no and not known. Not known creates a *check* (marked below as the check for another rule), worded",
        "\"Confirm whether ...; if so, ...\", with the same deadline; only an explicit no removes it. Two",
        "presumptions only ever add safeguarding: a patient has care and support needs unless someone answers no,",
        "and on a CAMHS ward a patient is under 18 unless an age says otherwise.",
        "",
        "A trust can change deadlines and owners, make recommended rules mandatory, switch off recommended",
        "rules and add its own rules in an override file, without editing the shipped file. The file is",
        "`rules-local.toml` in the PC's settings folder (`C:\\ProgramData\\Lantern\\` on Windows), the same for",
        "every user of the PC:",
        "",
        "```toml",
        "version = 1",
        "",
        "[[change]]",
        'id = "risk-care-plan-review"',
        'deadline = { kind = "hours", n = 48, from = "reported" }',
        'owner_role = "ward_manager"',
        'owner_label = "Ward manager"',
        "",
        "[[rules]]",
        'id = "trust-matron-informed"',
        "# ... written exactly like a rule in resources/rules.toml",
        "```",
        "",
        "## Summary",
        "",
        "| Rule | Action | Deadline | Basis | Owner | Mandatory |",
        "|---|---|---|---|---|---|",
    ]
    for rule in ruleset.rules:
        lines.append(f"| `{rule.id}` | {rule.title} | {rule.deadline.describe()} | {rule.basis_label} | "
                     f"{rule.owner_label} | {'yes' if rule.mandatory else 'recommended'} |")
    lines.append("")
    lines.append("## Rules")
    for rule in ruleset.rules:
        lines += [
            "",
            f"### `{rule.id}`: {rule.title}",
            "",
            f"- **When:** {_when_text(rule.when, taxonomy)}.",
            f"- **Action:** {rule.guidance}",
            f"- **Why:** {rule.why}",
            f"- **Deadline:** {rule.deadline.describe()}. Basis: {rule.basis_label}.",
            f"- **Owner:** {_owner(rule)}.",
            f"- **Mandatory:** {'yes' if rule.mandatory else 'no (recommended)'}.",
        ]
        if rule.checks:
            names = ", ".join(f"`{name}`" for name in rule.checks)
            lines.append(f"- **Check for:** {names} (created when an answer is not known).")
        if rule.requires_reference:
            lines.append("- **Completing it needs a reference** (for example the crime reference).")
        lines.append(f"- **Source:** {rule.source}")
    return "\n".join(lines) + "\n"


def main() -> int:
    sys.stdout.write(render(load_rules(), load_taxonomy()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
