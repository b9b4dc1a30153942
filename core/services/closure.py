"""Closing a safeguarding action: what its note, reason and reference must hold (core layer, no store).

The services enforce these rules (core.services.incidents completes and marks not applicable,
core.services.queue reopens); the dialogs use the same functions only to decide when Enter may press OK.

- Completing a mandatory action needs a note of what was done: at least a sentence, taken here as at least
  10 characters and 2 words.
- Where the action's rule asks for it (`requires_reference` in the rules file), a reference (crime, local
  authority, SARC) is needed too.
- Marking an action not applicable, or reopening a finished one, needs a reason of at least a sentence, and a
  ward manager or the safeguarding lead (permission `action.manage`).
"""

from __future__ import annotations

MIN_CHARS, MIN_WORDS = 10, 2

# What the reference box asks for, by rule id prefix (first match wins).
REFERENCE_HINTS = (
    ("police-", "Crime reference or police incident number"),
    ("sarc-", "SARC reference"),
    ("adult-safeguarding", "Local authority referral number"),
    ("childrens-social-care", "Local authority referral number"),
    ("lado-", "LADO / local authority referral number"),
    ("cqc-", "CQC notification reference"),
    ("dbs-", "DBS or regulator referral reference"),
    ("record-on-trust-system", "Trust incident system reference"),
)
GENERAL_HINT = "Reference (crime, local authority or SARC reference)"

def is_sentence(text: str) -> bool:
    """At least a sentence: MIN_CHARS characters and MIN_WORDS words, leading and trailing spaces aside."""
    text = (text or "").strip()
    return len(text) >= MIN_CHARS and len(text.split()) >= MIN_WORDS


def sentence_problem(text: str, field: str, blank: str) -> str:
    """'' if `text` is at least a sentence, else a plain message naming `field`."""
    if is_sentence(text):
        return ""
    if not (text or "").strip():
        return f"{field}: {blank}"
    return f"{field}: write at least a sentence ({MIN_CHARS} characters and {MIN_WORDS} words or more)."


def reference_hint(rule_id: str | None, required: bool = False) -> str:
    """The label for the reference box when completing an action from this rule."""
    label = next((hint for prefix, hint in REFERENCE_HINTS if rule_id and rule_id.startswith(prefix)), GENERAL_HINT)
    return label if required else f"{label} (if there is one)"


def reference_required(rule_id: str | None, rules=None) -> bool:
    """Whether an action from this rule needs a reference to be completed: the rule's `requires_reference`
    (rules.toml, or a trust's override). Hand-added actions and rules no longer in force never need one."""
    if not rule_id:
        return False
    if rules is None:
        from core.rules import active_rules

        rules = active_rules()
    try:
        return bool(getattr(rules.rule(rule_id), "requires_reference", False))
    except KeyError:
        return False


def completion_problems(rule_id: str | None, mandatory: bool, note: str, reference: str) -> dict[str, str]:
    """Field -> message for completing an action with this note and reference ({} when it may be completed)."""
    errors = {}
    if mandatory:
        problem = sentence_problem(note, "What was done", "say what was done. A mandatory safeguarding action "
                                                           "cannot be completed with a blank note.")
        if problem:
            errors["note"] = problem
    if reference_required(rule_id) and not (reference or "").strip():
        errors["reference"] = (f"{reference_hint(rule_id, True)}: this action needs it to be completed. If there "
                               "is none yet, leave the action open.")
    return errors


def reason_problems(reason: str, blank: str) -> dict[str, str]:
    """Field -> message for the reason to mark an action not applicable or to reopen it."""
    problem = sentence_problem(reason, "Reason", blank)
    return {"reason": problem} if problem else {}
