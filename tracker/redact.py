"""The one place that hides credentials before a URL or a message is shown.

A URL may carry a user name and password (``postgresql://u:PW@host/db``,
``https://user:secret@gamma.example``): whatever prints it (config errors, database
errors, source errors stored in source_health, logs) shows ``***@host`` instead.
Standard library only: the quick path imports it.

What is hidden, as two patterns (the first applied first):

* ``\\b[A-Za-z][A-Za-z0-9+.-]*://[^/?#\\s]*@``: a URL's scheme, then its userinfo up to the
  last "@" before the path; the scheme is kept.
* ``(?<![\\w/.@:-])[^\\s/@:'"]+:[^\\s/@'"]*@(?=[\\w\\[])``: a bare host's userinfo, as in
  "HTTP 500 from user:secret@host", only when a password is there (a plain "name@host" is
  more often an email address than a secret).

Messages quote untrusted text (a field of a payload, an error body), so they are found by
scanning each run of characters once rather than by ``re.sub`` with these patterns, which
retries a match at every position of a long run: quadratic, seconds for one message of
100,000 characters. Each scan below returns what the pattern's ``re.sub`` would.
"""

from __future__ import annotations

import re

MASK = "***"

# A URL: where a scheme may start, the rest of the scheme, the userinfo that may follow.
_SCHEME_START = re.compile(r"\b[A-Za-z]")
_SCHEME = re.compile(r"[A-Za-z0-9+.-]*")
_URL_USERINFO = re.compile(r"[^/?#\s]*")
# A bare host: where a user name may start, the name, the password, the host's first letter.
_NAME_START = re.compile(r"(?<![\w/.@:-])[^\s/@:'\"]")
_NAME = re.compile(r"[^\s/@:'\"]*")
_PASSWORD = re.compile(r"[^\s/@'\"]*")
_HOST_START = re.compile(r"[\w\[]")


def redact(text: object) -> str:
    """``text`` with the userinfo of every URL in it replaced by ``***``."""
    return _hide_bare_userinfo(_hide_url_userinfo(str(text)))


def _hide_url_userinfo(text: str) -> str:
    kept, done, at = [], 0, 0
    while start := _SCHEME_START.search(text, at):
        scheme_end = _SCHEME.match(text, start.end()).end()
        if not text.startswith("://", scheme_end):
            # A later start within this scheme ends at the same place: it fails the same way.
            at = scheme_end
            continue
        userinfo = scheme_end + 3
        last_at = text.rfind("@", userinfo, _URL_USERINFO.match(text, userinfo).end())
        if last_at < 0:
            at = userinfo  # a later start in the userinfo may begin a URL of its own
            continue
        kept += [text[done:userinfo], f"{MASK}@"]
        done = at = last_at + 1
    return "".join(kept) + text[done:]


def _hide_bare_userinfo(text: str) -> str:
    kept, done, at = [], 0, 0
    while start := _NAME_START.search(text, at):
        colon = _NAME.match(text, start.end()).end()
        if not text.startswith(":", colon):
            at = colon  # a later start within this name ends at the same place, and fails
            continue
        sign = _PASSWORD.match(text, colon + 1).end()
        if not (text.startswith("@", sign) and _HOST_START.match(text, sign + 1)):
            # A later start up to here reaches the same end of the password, and fails.
            at = sign
            continue
        kept += [text[done:start.start()], f"{MASK}@"]
        done = at = sign + 1
    return "".join(kept) + text[done:]


def scheme_and_host(url: str) -> str:
    """``scheme://host`` of a URL, nothing else: a notification URL may carry a token
    anywhere in its path or query (``discord://id/token``), so only these are shown."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "(not a URL)"
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    return f"{scheme}://{host}"
