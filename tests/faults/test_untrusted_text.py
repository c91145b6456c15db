"""Untrusted text is never markup or terminal control.

A market's question, a source's error message, a registry's claim, notes or reason and a
note given to ``tracker resolve`` are planted with rich markup (``[/x]``, ``[bold]``) and
terminal control (ESC, CSI, OSC window titles and hyperlinks, C1 CSI 0x9b, BEL, a bare CR
that would overwrite a line). Every command that prints them runs as a user runs it: in a
pipe, and on a terminal (rich forced to one with FORCE_COLOR). Each must exit 0 with no
traceback, print no control character of its own data, and still show the hostile text in
its escaped form (tracker/textsafe.py: ``\\x1b``, ``\\r``, ``\\x9b``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from db import queries
from db.engine import open_database
from tests.forked_cli import run_tracker
from tests.replay import FIXTURES, ReplayServer, Reply
from tests.sources_fixtures import replay_config

AREA = "untrusted text"

SLUG = "xi-jinping-out-before-2027"
QUESTION = "Will [/x] [bold]happen[/bold]?"
WHO = "Eve\x9b2J"  # C1 CSI: clears the screen on terminals that take 8-bit controls
CLAIM = "Claim \x1b[2J\x1b]0;pwned\x07 ends"  # clear screen, then set the window title
OSC8 = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"  # a hyperlink hiding its target
NOTES = f"see\r forged line {OSC8}"
REASON = "judged [/x] by\x08\x08hand\x7f"
RESOLVE_NOTE = f"\r forged line {OSC8} [/x]"
# What a source might echo from a payload it could not read.
SOURCE_ERROR = "Yahoo says [/x] [red]boom\x1b[2J\r forged line"

PREDICTIONS = f"""
[[prediction]]
id = "eve-market"
who = {json.dumps(WHO)}
made_on = 2026-01-10
claim = {json.dumps(CLAIM)}
notes = {json.dumps(NOTES)}
kind = "market"
series = "polymarket:{SLUG}"
side = "yes"

[[prediction]]
id = "eve-hunch"
who = {json.dumps(WHO)}
made_on = 2026-01-10
claim = {json.dumps(QUESTION)}
kind = "manual"
proxy = "polymarket:{SLUG}"
reason = {json.dumps(REASON)}
"""


def hostile_market() -> Reply:
    market = json.loads((FIXTURES / "polymarket" / "markets_open_xi.json").read_text())[0]
    market["question"] = QUESTION
    return Reply(json.dumps([market]).encode())


def tracker(config, *args, terminal: bool = False) -> subprocess.CompletedProcess:
    """The CLI as a user runs it, in a process of its own (tests/forked_cli.py); bytes, so a
    bare CR is not turned into a newline."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TERM")}
    if terminal:
        env |= {"FORCE_COLOR": "1", "COLUMNS": "100", "TERM": "xterm-256color"}
    return run_tracker(["--config", str(config), *args], env=env, text=False)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A database after a poll of the hostile market, a manual verdict with a hostile note
    and a source failing with a hostile error."""
    tmp_path = tmp_path_factory.mktemp("untrusted")
    with ReplayServer() as server:
        server.add("/markets", hostile_market())
        config = replay_config(tmp_path, server.url, predictions=PREDICTIONS)
        polled = tracker(config, "poll")
        assert polled.returncode == 0, polled.stderr.decode()
    engine = open_database(f"sqlite:///{tmp_path / 'tracker.db'}")
    # A failing source whose stored error echoes its payload.
    queries.record_source_result(engine, "polymarket", datetime.now(UTC), SOURCE_ERROR,
                                 {SLUG: SOURCE_ERROR})
    engine.dispose()
    return config


# Rich's own styling on a terminal: SGR sequences only; anything else is planted text.
SGR = re.compile(rb"\x1b\[[0-9;]*m")


def leaks(out: bytes, terminal: bool) -> list[str]:
    """The control characters that reached the output."""
    if terminal:
        out = SGR.sub(b"", out)
    text = out.decode("utf-8", errors="replace")
    found = [name for name, char in (("ESC", "\x1b"), ("C1 CSI", "\x9b"), ("BEL", "\x07"),
                                    ("backspace", "\x08"), ("DEL", "\x7f")) if char in text]
    if re.search(r"\r(?!\n)", text):
        found.append("bare CR")
    return found


def flat(out: bytes, terminal: bool) -> str:
    """The output as one line of words, table borders and wrapping removed."""
    if terminal:
        out = SGR.sub(b"", out)
    text = out.decode("utf-8", errors="replace")
    return "".join(re.sub(r"[│┃|─━┏┓┗┛┡┩└┘┌┐╇╈┼╋┬┴├┤╭╮╰╯═║]", " ", text).split())


# command -> (arguments, what must still be visible, spaces removed, as words)
COMMANDS = {
    # A long word in a narrow column is cut (rich: ellipsis): ask for the start of each.
    "status": (["status"], ["[/x]", "\\x1b[2J"]),  # ids, statuses, claims cut to fit
    "status --wide": (["status", "--wide"], ["[/x]", "[bold]happen", "\\x1b[2J", "Eve\\x9b2J"]),
    "series": (["series"], ["[/x]", "[red]boom", "\\x1b", "forged"]),
    "show": (["show", "eve-market"], ["pwned", "\\x1b", "forged", "\\r", "http://evil",
                                      "[bold]happen[/bold]"]),
    "show manual": (["show", "eve-hunch"], ["[/x]", "[bold]happen[/bold]", "\\x08", "\\x7f"]),
    "health": (["health"], ["[/x]", "[red]boom", "\\x1b", "forged"]),
    "scoreboard": (["scoreboard"], ["Eve\\x9b2J"]),
    "digest --text": (["digest", "--text"], ["pwned", "\\x1b", "\\x9b", "[red]boom"]),
}


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_hostile_text_is_shown_as_text(planted, fault_result, name, terminal):
    args, visible = COMMANDS[name]
    done = tracker(planted, *args, terminal=terminal)
    out, err = done.stdout, done.stderr
    problems = leaks(out + err, terminal)
    shown = flat(out, terminal)
    missing = [v for v in visible if v.replace(" ", "") not in shown]
    expected = 1 if name == "health" else 0  # no daemon leads on the planted database
    crashed = done.returncode != expected or b"Traceback" in err
    survived = not (crashed or problems or missing)
    fault_result(area=AREA, fault="markup and control characters in data",
                 target=f"{name} ({'terminal' if terminal else 'pipe'})", survived=survived,
                 note=("; ".join(filter(None, [
                     f"exit {done.returncode}" if done.returncode != expected else "",
                     f"leaked {', '.join(problems)}" if problems else "",
                     f"not shown {missing}" if missing else "",
                 ])) or "shown escaped, nothing interpreted"))
    assert not crashed, err.decode(errors="replace")
    assert not problems, out
    assert not missing, shown


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_a_hostile_resolve_note_is_shown_as_text(planted, fault_result, terminal):
    done = tracker(planted, "resolve", "eve-hunch", "right", "--note", RESOLVE_NOTE,
                   terminal=terminal)
    problems = leaks(done.stdout + done.stderr, terminal)
    shown = flat(done.stdout, terminal)
    missing = [v for v in ("\\r", "forged", "\\x1b", "http://evil", "[/x]") if v not in shown]
    crashed = done.returncode != 0 or b"Traceback" in done.stderr
    fault_result(area=AREA, fault="control characters in --note",
                 target=f"resolve --note ({'terminal' if terminal else 'pipe'})",
                 survived=not (crashed or problems or missing),
                 note=f"leaked {problems}, not shown {missing}" if problems or missing else "")
    try:
        assert not crashed, done.stderr.decode(errors="replace")
        assert not problems, done.stdout
        assert not missing, shown
        # The note, kept as given, is what `show` prints next, escaped.
        shown = flat(tracker(planted, "show", "eve-hunch", terminal=terminal).stdout, terminal)
        assert "forged" in shown and "\\r" in shown
    finally:  # the other tests of this module read the planted database as it was
        tracker(planted, "resolve", "eve-hunch", "--undo")


def test_json_keeps_the_raw_data(planted):
    """--json is data, not display: the text is kept as it is, escaped by JSON."""
    rows = json.loads(tracker(planted, "status", "--json").stdout)
    assert {row["claim"] for row in rows} >= {CLAIM, QUESTION}
    assert b"\x1b" not in tracker(planted, "series", "--json").stdout


def test_the_html_digest_escapes_markup_and_shows_control_characters(planted, tmp_path,
                                                                        fault_result):
    page = tmp_path / "digest.html"
    done = tracker(planted, "digest", "--preview", str(page))
    html = page.read_bytes() if page.exists() else b""
    problems = leaks(html, False)
    survived = done.returncode == 0 and not problems and b"\\x1b[2J" in html
    fault_result(area=AREA, fault="markup and control characters in data",
                 target="digest --preview (HTML)", survived=survived,
                 note=f"leaked {problems}" if problems else "autoescaped, controls shown")
    assert done.returncode == 0, done.stderr
    assert not problems and b"\\x1b[2J" in html and b"[/x] [bold]happen[/bold]" in html


def test_a_terminal_run_is_styled(planted):
    """FORCE_COLOR makes rich take the pipe for a terminal: the rich path is exercised."""
    assert SGR.search(tracker(planted, "status", terminal=True).stdout)
    assert not SGR.search(tracker(planted, "status").stdout)


# A Yahoo symbol that does not exist, with a description that is markup and control.
YAHOO_404 = json.dumps({"chart": {"result": None, "error": {
    "code": "Not Found", "description": "[/x] \x1b]0;pwned\x07 [bold]gone"}}}).encode()


def failing_yahoo_config(tmp_path, url: str):
    return replay_config(tmp_path, url, predictions="""
[[prediction]]
id = "gone"
who = "T"
made_on = 2026-01-10
claim = "gone"
kind = "threshold"
series = "yahoo:GONE"
target = 1e9
direction = "above"
""")


def test_poll_lines_quote_a_hostile_error_as_text(tmp_path, fault_result):
    with ReplayServer() as server:
        server.add("/v8/finance/chart/GONE", Reply(YAHOO_404, status=404))
        config = failing_yahoo_config(tmp_path, server.url)
        done = tracker(config, "poll")
    problems = leaks(done.stdout + done.stderr, False)
    survived = done.returncode == 1 and b"Traceback" not in done.stderr and not problems \
        and b"[/x]" in done.stdout
    fault_result(area=AREA, fault="markup and control characters in a source's error",
                 target="poll (pipe)", survived=survived, note=f"leaked {problems}" if problems else "")
    assert done.returncode == 1 and b"Traceback" not in done.stderr, done.stderr
    assert not problems and b"[/x]" in done.stdout and b"pwned" in done.stdout, done.stdout


def on_a_terminal(config, *args) -> tuple[int, bytes]:
    """The CLI with a real terminal (a pty) as its stdout, as `backfill` draws bars there."""
    pytest.importorskip("pty")  # POSIX only
    master, slave = os.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"}
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(config), *args],
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks)


def test_backfill_bars_quote_a_hostile_error_as_text(tmp_path, fault_result):
    with ReplayServer() as server:
        server.add("/v8/finance/chart/GONE", Reply(YAHOO_404, status=404))
        config = failing_yahoo_config(tmp_path, server.url)
        code, out = on_a_terminal(config, "backfill", "--since", "2026-01-01")
    survived = code == 1 and b"Traceback" not in out and b"[/x]" in out
    fault_result(area=AREA, fault="markup in a source's error", target="backfill (terminal)",
                 survived=survived, note="" if survived else f"exit {code}")
    assert b"Traceback" not in out, out
    assert code == 1 and b"[/x]" in out and b"[bold]gone" in out, out


def test_markets_search_prints_questions_as_text(tmp_path, fault_result):
    event = json.loads((FIXTURES / "polymarket" / "public_search_ethiopia.json").read_text())
    event["events"][0]["markets"][0]["question"] = f"{QUESTION} {CLAIM}\r forged"
    with ReplayServer() as server:
        server.add("/public-search", Reply(json.dumps(event).encode()))
        config = replay_config(tmp_path, server.url, predictions="")
        done = tracker(config, "markets", "search", "ethiopia")
    problems = leaks(done.stdout + done.stderr, False)
    shown = flat(done.stdout, False)
    survived = done.returncode == 0 and not problems and "\\x1b[2J" in shown
    fault_result(area=AREA, fault="control characters in a market's question",
                 target="markets search (pipe)", survived=survived,
                 note=f"leaked {problems}" if problems else "")
    assert done.returncode == 0, done.stderr
    assert not problems, done.stdout
    assert "[bold]happen[/bold]" in shown and "\\x1b[2J" in shown and "\\r" in shown


def test_log_lines_carry_no_terminal_control(fault_result):
    import logging

    from tracker.logs import JsonFormatter, PlainFormatter

    record = logging.LogRecord("tracker.poll", logging.ERROR, __file__, 1, "%s", (SOURCE_ERROR + "\x9b2J",),
                               None)
    plain, as_json = PlainFormatter().format(record), JsonFormatter().format(record)
    problems = leaks(plain.encode(), False) + leaks(as_json.encode(), False)
    fault_result(area=AREA, fault="control characters in a logged error", target="logs",
                 survived=not problems, note=f"leaked {problems}" if problems else "")
    assert not problems, (plain, as_json)
    assert "\\x1b[2J" in plain and "\\r forged line" in plain and "\n" not in plain
    assert json.loads(as_json)["message"] == SOURCE_ERROR + "\x9b2J"  # JSON keeps the data
