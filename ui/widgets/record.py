"""One incident's whole record as plain HTML for a read-only browser (ui layer)."""

from __future__ import annotations

import html

from core.taxonomy import PD09_LABELS, pair_label
from ui.models.manager import ACTION_STATUS, STATUS_LABELS, when

RESTRICTED_TEXT = ("A staff allegation (the type is staff sexual misconduct, or staff of any kind are alleged to have "
                   "done it). Only the safeguarding lead and this ward's managers can open this record; every "
                   "opening is logged.")


def _label_or(tax, kind: str, code, missing: str) -> str:
    return tax.label(kind, code) if code else missing


def _when_text(draft) -> str:
    return when(draft.occurred_at) + (" (approximate)" if draft.occurred_precision == "approximate" else "")


def _harm_text(d, tax) -> str:
    physical = _label_or(tax, "harm_physical", d.harm_physical, "not graded")
    psychological = _label_or(tax, "harm_psychological", d.harm_psychological, "not graded")
    nrls = f" (NRLS: {PD09_LABELS.get(d.pd09, '')})" if d.pd09 else ""
    return f"Physical: {physical}; psychological: {psychological}{nrls}"


def _fact_rows(d, tax, reporter: str) -> list[tuple[str, str]]:
    draft = d.draft
    rows = [("Reference", d.reference), ("Ward", d.ward_name), ("Status", STATUS_LABELS.get(d.status, d.status)),
            ("When it happened", _when_text(draft)),
            ("Shift", _label_or(tax, "shifts", draft.shift, "Not recorded")),
            ("Where", _label_or(tax, "locations", draft.location, "Not recorded")),
            ("Type", ", ".join(tax.type_label(t) for t in draft.types) or "Not given"),
            ("Who did what to whom", pair_label(d.pair) if d.pair else "Not recorded"),
            ("Harm", _harm_text(d, tax)),
            ("Reported", when(d.reported_at) + (f" by {reporter}" if reporter else "")),
            ("Closed", when(d.closed_at) if d.closed_at else "Not closed")]
    if d.restricted:
        rows.insert(0, ("Restricted", RESTRICTED_TEXT))
    if draft.flags:
        rows.append(("Details ticked", ", ".join(tax.label("context_flags", f) for f in draft.flags)))
    return rows


def _person_text(p, tax) -> str:
    bits = [tax.label("person_roles", p.role), tax.label("person_types", p.person_type)]
    if p.local_ref:
        bits.append(f"ref {p.local_ref}")
    if p.role == "affected":
        bits.append(f"harm {p.harm_physical or 'not graded'} / {p.harm_psychological or 'not graded'}")
    if p.police_wishes:
        bits.append(tax.label("police_wishes", p.police_wishes))
    if p.linked_user_id:
        bits.append("a Lantern account holder")
    return ", ".join(bits)


def _paragraph(text: str, missing: str) -> str:
    return f"<p>{html.escape(text).replace(chr(10), '<br>') or missing}</p>"


def record_html(d, tax, reporter: str = "") -> str:
    """The whole record as plain HTML for a read-only browser (escaped: free text is never markup)."""
    e = html.escape
    draft = d.draft
    out = ["<table cellpadding='3'>"]
    out += [f"<tr><th align='left' valign='top'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _fact_rows(d, tax, reporter)]
    out.append("</table><h3>People involved</h3><ul>")
    out += [f"<li>{e(_person_text(p, tax))}</li>" for p in draft.people]
    out.append("</ul><h3>What happened</h3>")
    out.append(_paragraph(draft.description, "Not written yet."))
    out.append("<h3>What was done straight away</h3>")
    out.append(_paragraph(draft.immediate_actions, "Not written."))
    out.append("<h3>Feedback to the reporter</h3>")
    out.append(f"<p>{e(d.feedback_note) or 'None yet.'}</p>")
    return "".join(out)


def version_text(v, tax) -> str:
    """One earlier version of a record (an IncidentVersion) as plain text, with any reopened action's old state."""
    snap = v.snapshot
    lines = [f"Version {v.version}, saved {when(v.created_at)}. Reason: {v.reason}", "",
             f"Status: {snap.get('status')}",
             f"Types: {', '.join(tax.type_label(t) for t in snap.get('types', []))}",
             f"Where: {tax.label('locations', snap['location']) if snap.get('location') else 'not recorded'}",
             f"Harm: {snap.get('harm_physical')} / {snap.get('harm_psychological')}", "",
             "What happened:", snap.get("description", ""), "", "Feedback:", snap.get("feedback_note", "")]
    reopened = snap.get("reopened_action")
    if reopened:
        lines[1:1] = ["", f"Action reopened: {reopened.get('title', '')}",
                      f"Before it was reopened: {ACTION_STATUS.get(reopened.get('status'), reopened.get('status'))}"
                      f"; note: {reopened.get('note') or 'none'}; reference: {reopened.get('reference') or 'none'}"]
    return "\n".join(lines)
