"""The one rule for an organisation's ODS code (core layer): `init` checks it, and the NRLS export's XSD
(resources/lantern-nrls-v1.xsd, type OdsCode) states the same pattern; nrls_xml refuses to run if they differ.

ODS organisation codes are 3 characters for a trust (e.g. RXX) and 5 for one of its sites (e.g. RXX01);
the NHS England ODS service also issues 6-character codes. Letters are capitals.
"""

from __future__ import annotations

import re

ODS_CODE_PATTERN = "[A-Z0-9]{3,6}"
ODS_CODE_RULE = ("An ODS code is 3 to 6 letters and digits, for example RXX (a trust) or RXX01 (a site). "
                 "Your trust's information team can tell you yours.")
_ODS = re.compile(ODS_CODE_PATTERN)


def clean_ods_code(code: str) -> str:
    """The code as stored (trimmed, capitals), or "" when it breaks the rule."""
    code = (code or "").strip().upper()
    return code if _ODS.fullmatch(code) else ""
