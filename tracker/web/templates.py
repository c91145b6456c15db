"""The pages' templates: Jinja2, autoescaped (claims, notes, market questions and errors
are untrusted text), with the digest's words and colours for statuses and figures. Every
value a template prints is made visible first (tracker/textsafe.py), as in the digest: a
control character shows as its escape, never as itself."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from tracker.digest.render import SCOREBOARD_KEY, STATUS_COLOURS, brier, pct, status_label
from tracker.formats import n_of, record, timestamp, when
from tracker.textsafe import visible
from tracker.units import show, unit_of
from tracker.views.show import last_shown

HERE = Path(__file__).parent
NONE = "–"  # en dash: no value, as in the digest


def _finalize(value):
    """Text made visible; markup we built (a chart) and numbers as they are."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def who_url(name: str) -> str:
    return "/who/" + quote(name, safe="")


def claim_url(prediction_id: str) -> str:
    return "/p/" + quote(prediction_id, safe="")


def value(value: float | None, unit: str | None) -> str:
    return NONE if value is None else show(value, unit)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=pct, status_label=status_label, when=lambda m: when(m, NONE),
                       timestamp=lambda m: timestamp(m, NONE))
    env.globals.update(n_of=n_of, record=record, brier=brier, who_url=who_url,
                       claim_url=claim_url, value=value, unit_of=unit_of,
                       last_shown=last_shown, scoreboard_key=SCOREBOARD_KEY)
    return env


ENV = environment()


def status_css() -> str:
    """A rule per status for its badge, in the digest's colours: one place sets them."""
    return "".join(f".s-{status}{{color:{ink};background:{tint}}}\n"
                   for status, (ink, tint) in STATUS_COLOURS.items())
