"""The whole export in memory, through a format's own streaming Writer (core layer).

The service streams every export to a file a chunk at a time; this is the same path with a BytesIO for the file,
for the tests and the benchmarks' inner steps, so what they check is what the service writes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from core.exports.mapping import ExportContext, ExportRecord


def render(writer, records: Iterable[ExportRecord], ctx: ExportContext) -> bytes:
    """Write `records` with `writer` (nrls_xml.Writer, nrls_csv.Writer or lfpse_json.Writer) and return the bytes."""
    records = list(records)
    out = io.BytesIO()
    w = writer(out, ctx, len(records))
    for record in records:
        w.add(record)
    w.end()
    return out.getvalue()
