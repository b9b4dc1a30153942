"""One incident's whole record as plain HTML for a read-only browser (ui layer)."""

from __future__ import annotations

import html

from core.taxonomy import PD09_LABELS, pair_label
from ui.models.manager import STATUS_LABELS, when


def record_html(d, tax, reporter: str = "") -> str:
    """The whole record as plain HTML for a read-only browser (escaped: free text is never markup)."""
    e = html.escape
    draft = d.draft
    rows = [("Reference", d.reference), ("Ward", d.ward_name), ("Status", STATUS_LABELS.get(d.status, d.status)),
            ("When it happened", when(draft.occurred_at) + (" (approximate)" if draft.occurred_precision ==
                                                              "approximate" else "")),
            ("Shift", tax.label("shifts", draft.shift) if draft.shift else "Not recorded"),
            ("Where", tax.label("locations", draft.location) if draft.location else "Not recorded"),
            ("Type", ", ".join(tax.type_label(t) for t in draft.types) or "Not given"),
            ("Who did what to whom", pair_label(d.pair) if d.pair else "Not recorded"),
            ("Harm", f"Physical: {tax.label('harm_physical', d.harm_physical) if d.harm_physical else 'not graded'}; "
                     f"psychological: {tax.label('harm_psychological', d.harm_psychological) if d.harm_psychological else 'not graded'}"
                     + (f" (NRLS: {PD09_LABELS.get(d.pd09, '')})" if d.pd09 else "")),
            ("Reported", when(d.reported_at) + (f" by {reporter}" if reporter else "")),
            ("Closed", when(d.closed_at) if d.closed_at else "Not closed")]
    if d.restricted:
        rows.insert(0, ("Restricted", "A staff allegation (the type is staff sexual misconduct, or staff of any "
                                      "kind are alleged to have done it). Only the safeguarding lead and this "
                                      "ward's managers can open this record; every opening is logged."))
    if draft.flags:
        rows.append(("Details ticked", ", ".join(tax.label("context_flags", f) for f in draft.flags)))
    out = ["<table cellpadding='3'>"]
    out += [f"<tr><th align='left' valign='top'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows]
    out.append("</table><h3>People involved</h3><ul>")
    for p in draft.people:
        bits = [tax.label("person_roles", p.role), tax.label("person_types", p.person_type)]
        if p.local_ref:
            bits.append(f"ref {p.local_ref}")
        if p.role == "affected":
            bits.append(f"harm {p.harm_physical or 'not graded'} / {p.harm_psychological or 'not graded'}")
        if p.police_wishes:
            bits.append(tax.label("police_wishes", p.police_wishes))
        if p.linked_user_id:
            bits.append("a Lantern account holder")
        out.append(f"<li>{e(', '.join(bits))}</li>")
    out.append("</ul><h3>What happened</h3>")
    out.append(f"<p>{e(draft.description).replace(chr(10), '<br>') or 'Not written yet.'}</p>")
    out.append("<h3>What was done straight away</h3>")
    out.append(f"<p>{e(draft.immediate_actions).replace(chr(10), '<br>') or 'Not written.'}</p>")
    out.append("<h3>Feedback to the reporter</h3>")
    out.append(f"<p>{e(d.feedback_note) or 'None yet.'}</p>")
    return "".join(out)
