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
    if "age_under" in table:
        parts.append(f"known (or presumed) to be under {table['age_under']}")
    if "age_not_under" in table:
        parts.append(f"not known to be under {table['age_not_under']}")
    if "age_unknown_under" in table:
        parts.append(f"whose age is not recorded well enough to say whether they are under {table['age_unknown_under']}")
    if "police_wishes_in" in table:
        wishes = [w for w in table["police_wishes_in"] if w != NOT_KNOWN]
        words = [_labels(taxonomy, "police_wishes", wishes)] if wishes else []
        if NOT_KNOWN in table["police_wishes_in"]:
            words.append("not recorded")
        parts.append(f"whose wish about the police is: {' or '.join(words)}")
    if "sex_in" in table:
        parts.append(f"whose recorded sex is {_labels(taxonomy, 'sexes', table['sex_in'])} (or not recorded)"
                     if "unknown" in table["sex_in"] else
                     f"whose recorded sex is {_labels(taxonomy, 'sexes', table['sex_in'])}")
    return f"an {who}" if not parts else f"a{'n' if who[0] in 'aeiou' else ''} {who} " + ", ".join(parts)


def describe_when(table: dict, taxonomy: Taxonomy) -> str:
    """A rule's `when` table in plain words, e.g. 'the incident is coded as Rape (alleged) (`SS-RAPE`)'."""
    return "; and ".join(_clauses(table, taxonomy))


def _clauses(table: dict, taxonomy: Taxonomy) -> list[str]:
    if table.get("always"):
        return ["every incident"]
    clauses = []
    if "types_any" in table:
        clauses.append(f"the incident is coded as {_labels(taxonomy, 'incident_types', table['types_any'], True)}")
    if "types_only" in table:
        clauses.append(f"every type it is coded with is {_labels(taxonomy, 'incident_types', table['types_only'], True)}")
    if "flags_any" in table:
        clauses.append(f"the incident is flagged: {_flag_labels(taxonomy, table['flags_any'], ' or ')}")
    if "flags_all" in table:
        clauses.append(f"the incident is flagged: {_flag_labels(taxonomy, table['flags_all'], ' and ')}")
    if "location_in" in table:
        clauses.append(f"it happened in: {_labels(taxonomy, 'locations', table['location_in'])}")
    if "perpetrator_type_in" in table:
        clauses.append(f"an alleged perpetrator is a {_labels(taxonomy, 'person_types', table['perpetrator_type_in'])}")
    if "affected_type_in" in table:
        clauses.append(f"an affected person is a {_labels(taxonomy, 'person_types', table['affected_type_in'])}")
    if "person" in table:
        clauses.append(f"there is {_person_words(table['person'], taxonomy)}")
    if "harm_at_least" in table:
        levels = [f"the worst {scale} harm is {level} or worse" for scale, level in table["harm_at_least"].items()]
        clauses.append(", or ".join(levels))
    if "occurred_within_hours" in table:
        clauses.append(f"it was reported within {table['occurred_within_hours']} hours of happening")
    if "reported_after_hours" in table:
        clauses.append(f"it was reported more than {table['reported_after_hours']} hours after it happened")
    if "any_of" in table:
        options = [_nested(c, taxonomy) for c in table["any_of"]]
        clauses.append(options[0] if len(options) == 1 else "either " + "; or ".join(options))
    if "none_of" in table:
        clauses.append("not when " + "; nor when ".join(_nested(c, taxonomy) for c in table["none_of"]))
    return clauses


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
