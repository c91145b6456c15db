"""Redaction: the userinfo of URLs and bare hosts is hidden exactly where the two patterns
in tracker/redact.py say, and a long message of untrusted text costs no more than a
short one."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracker.redact import redact

# The patterns the docstring of tracker/redact.py gives, applied with re.sub: the reference.
URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")
BARE_USERINFO = re.compile(r"(?<![\w/.@:-])[^\s/@:'\"]+:[^\s/@'\"]*@(?=[\w\[])")


def by_the_patterns(text: str) -> str:
    return BARE_USERINFO.sub("***@", URL_USERINFO.sub(r"\g<scheme>***@", text))


@pytest.mark.parametrize(("text", "shown"), [
    ("postgresql+psycopg://u:PW@db.example:5432/t", "postgresql+psycopg://***@db.example:5432/t"),
    ("https://user:se@cret@gamma.example/markets?x=a@b", "https://***@gamma.example/markets?x=a@b"),
    ("HTTP 500 from user:secret@host", "HTTP 500 from ***@host"),
    ("refused by u:p@[::1]:8080", "refused by ***@[::1]:8080"),
    ("write to ops@example.com", "write to ops@example.com"),  # no password: an address
    ("a://b:c://d@e", "a://b:c://***@e"),  # a URL starting inside another's userinfo
])
def test_userinfo_is_hidden_and_nothing_else(text, shown):
    assert redact(text) == shown


# Text made mostly of the characters the patterns turn on, so that near misses are common.
TRICKY = st.text(st.sampled_from("aZ0_é.+-:/@?#[( \n'\"") | st.characters(), max_size=60)


@settings(max_examples=3000, deadline=None, derandomize=True, database=None)
@given(TRICKY)
@example("x://y:z@w u:p@h")
@example("a.b://c@d:e@f")
def test_redaction_is_what_the_patterns_say(text):
    assert redact(text) == by_the_patterns(text)


@pytest.mark.parametrize("hostile", [
    "'" + "[" * 100_000 + "'",  # a payload's field quoted in a parse error
    "a." * 50_000,  # a scheme could start at every other character
    "(a:" * 30_000,  # so could a user name, each followed by a password
])
def test_a_long_message_is_redacted_at_once(hostile):
    """Applied with re.sub, the patterns try a match at every position of such a run, each
    reading to its end: seconds for one message, and a poll's parse errors quote payloads."""
    started = time.perf_counter()
    assert redact(hostile) == hostile
    assert time.perf_counter() - started < 1.0
