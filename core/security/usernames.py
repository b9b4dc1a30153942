"""One spelling of a username for every purpose: key-slot lookup, sign-in throttle and audit (core layer).

`" nurse"`, `"nurse "`, tab+`nurse`, `"NURSE"` and the full-width `"ｎｕｒｓｅ"` are the same account, so they must
share one throttle counter. The name is normalised once, at the service boundary, and only the normalised
form is used after that.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 64


def normalise_username(username: str) -> str:
    """Strip surrounding white space, apply Unicode NFKC, then case-fold."""
    return unicodedata.normalize("NFKC", username).strip().casefold()
