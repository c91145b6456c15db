"""The one place that hides credentials before a URL or a message is shown.

A URL may carry a user name and password (``postgresql://u:PW@host/db``,
``https://user:secret@gamma.example``): whatever prints it (config errors, database
errors, source errors stored in source_health, logs) shows ``***@host`` instead.
Standard library only: the quick path imports it.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://userinfo@ — the userinfo ends at the last "@" before the path.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")
# A bare host with its userinfo, as in "HTTP 500 from user:secret@host": only when a
# password is there (a plain "name@host" is more often an email address than a secret).
_BARE_USERINFO = re.compile(r"(?<![\w/.@:-])[^\s/@:'\"]+:[^\s/@'\"]*@(?=[\w\[])")


def redact(text: object) -> str:
    """``text`` with the userinfo of every URL in it replaced by ``***``."""
    text = _URL_USERINFO.sub(rf"\g<scheme>{MASK}@", str(text))
    return _BARE_USERINFO.sub(f"{MASK}@", text)

