"""A source's errors as people read them: one line per cause, never the same message once
per series. A source that cannot reach its host fails every series it asked for with the
same message; listed per series, that is a wall of repeats. Grouped, it reads::

    yahoo: cannot resolve query2.finance.yahoo.com (17 series)

Every place that shows a source's errors (``poll``, ``series``, ``health``, the daemon's
log and the digest) groups them here, so they read alike. The stored errors stay as they
were: this is a view of them, and ``tracker health --verbose`` shows them whole.
Standard library only. The text is untrusted (an API's words): callers make it visible
(tracker/textsafe.py) or escape it, as for any error."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

NAMED = 3  # a cause shared by more series than this counts them instead of naming them
CAUSE_CHARS = 160  # a cause longer than this (an HTML page quoted whole) shows its start

# What getaddrinfo says when a host name does not resolve, on glibc, musl, macOS and
# Windows; httpx passes it on after "cannot reach HOST: " (tracker/sources/http.py).
_UNRESOLVED = re.compile(
    r"^cannot reach (?P<host>\S+): .*(name or service not known|temporary failure in name "
    r"resolution|no address associated with hostname|nodename nor servname|name does not "
    r"resolve|getaddrinfo failed)",
    re.IGNORECASE,
)


class Cause(NamedTuple):
    """One reason a source's series failed, and the series (symbols) it failed."""

    text: str
    symbols: tuple[str, ...]

    def phrase(self) -> str:
        return cause_phrase(self.text, self.symbols)


def cause_phrase(text: str, symbols: Sequence[str]) -> str:
    """'cannot resolve query2.finance.yahoo.com (17 series)'; a few series are named:
    'HTTP 404 from query2.finance.yahoo.com (^FOO, ^BAR)', and one leads its message:
    '^FOO: Yahoo says No data found'."""
    if len(symbols) == 1:
        return f"{symbols[0]}: {text}"
    if len(symbols) > NAMED:
        return f"{text} ({len(symbols)} series)"
    return f"{text} ({', '.join(symbols)})" if symbols else text


def cause_line(source: str, text: str, symbols: Sequence[str]) -> str:
    """The line of one cause, naming its source (one series: by its id, 'yahoo:^FOO: ...')."""
    return f"{source}:{cause_phrase(text, symbols)}" if len(symbols) == 1 else (
        f"{source}: {cause_phrase(text, symbols)}")


def cause_of(message: str) -> str:
    """A message as its cause, on one line and short: a host that does not resolve reads
    'cannot resolve HOST', and a long message keeps its start."""
    text = " ".join(message.split())
    unresolved = _UNRESOLVED.match(text)
    if unresolved:
        return f"cannot resolve {unresolved['host']}"
    return text if len(text) <= CAUSE_CHARS else text[: CAUSE_CHARS - 1] + "…"


def group_errors(errors: Mapping[str, str], fallback: str | None = None) -> list[Cause]:
    """``errors`` (symbol -> message) grouped by cause, the most widespread first. A
    source that failed without naming a symbol has only ``fallback``, its last error."""
    symbols: dict[str, list[str]] = {}
    for symbol, message in sorted(errors.items()):
        symbols.setdefault(cause_of(message), []).append(symbol)
    if not symbols and fallback:
        return [Cause(cause_of(fallback), ())]
    causes = [Cause(text, tuple(named)) for text, named in symbols.items()]
    return sorted(causes, key=lambda cause: (-len(cause.symbols), cause.text))


def in_one_line(causes: list[Cause]) -> str:
    """Every cause on one line, for a log line or a summary: 'A (17 series); B (^FOO)'."""
    return "; ".join(cause.phrase() for cause in causes)


def cause_lines(source: str, causes: list[Cause]) -> list[str]:
    """A line per cause, each naming its source: 'yahoo: cannot resolve ... (17 series)'."""
    return [cause_line(source, cause.text, cause.symbols) for cause in causes]
