"""A schema error anywhere in the XML export, the extension namespace included, is told as a plain ExportError
naming the element and the record, never an unhandled XPath error (the x: prefix was once undefined there)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.exports import nrls_xml
from core.exports.mapping import Coded, ExportError
from tests.core.test_exports_formats import detail, records


def _refused(recs, c) -> str:
    with pytest.raises(ExportError) as err:
        nrls_xml.render(recs, c)
    return str(err.value)


def test_an_error_in_the_extension_names_the_element_and_record():
    recs, c = records(detail(), detail("LAN-2026-00002"))
    broken = replace(recs[1], types=(Coded("not a type code", "Broken"),))
    message = _refused([recs[0], broken], c)
    assert "Type in record 2 (LAN-2026-00002)" in message
    assert "nothing was written" in message and "not a type code" not in message


def test_an_error_in_an_extension_person_names_the_record():
    recs, c = records(detail())
    person = replace(recs[0].people[0], person_type="nobody")
    message = _refused([replace(recs[0], people=(person,))], c)
    assert "Person in record 1 (LAN-2026-00001)" in message and "nobody" not in message


def test_an_error_outside_the_records_names_the_element_alone():
    recs, c = records(detail())
    message = _refused(recs, replace(c, ods_code="not an ODS code"))
    assert "schema check at Batch, so nothing was written" in message and "not an ODS code" not in message


def test_a_file_that_is_not_xml_says_so(tmp_path):
    broken = tmp_path / "broken.xml"
    recs, c = records(detail())
    data = nrls_xml.serialise(recs, c)
    broken.write_bytes(data[:200] + b"<<" + data[200:])  # as a writer fault might leave it
    with pytest.raises(ExportError, match="not well-formed XML"):
        nrls_xml.check(broken)
