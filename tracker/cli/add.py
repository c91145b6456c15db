"""`tracker add`: write one prediction of your own into your registry file.

Each field of a prediction is a flag of the same name (``made_on`` is ``--made-on``; a
list repeats its flag). In a terminal, the required fields left out are asked for;
elsewhere a missing field is bad usage, said in one line. The prediction is validated by
the same schema as the registry's, and appended to the file (tracker/registry/writer.py).
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_USAGE, fail, handle_errors
from tracker.cli.output import emit_json, json_option

if TYPE_CHECKING:
    from tracker.registry.writer import Added

# As tracker/registry/schema.py names them (a test keeps the two the same): the schema
# itself is imported only when the command runs, so `tracker --help` starts fast.
KINDS = ("threshold", "race", "market", "outperform", "rank", "level", "estimate", "filing",
         "manual", "at_least", "all_of", "any_of")
DATE = click.DateTime(formats=["%Y-%m-%d"])


class Field(NamedTuple):
    help: str
    type: click.ParamType = click.STRING
    many: bool = False  # a list: the flag is given once per item
    pair: bool = False  # two values after one flag
    switch: str = ""  # a yes/no field: its two flags
    metavar: str | None = None


# Every field a prediction can have, in the order `--help` lists them.
FIELDS: dict[str, Field] = {
    "id": Field("Unique name: lowercase letters, digits and dashes, like me-gold-5000.", metavar="ID"),
    "who": Field("Who made the claim."),
    "claim": Field("The claim, in one sentence."),
    "kind": Field("How it is judged.", click.Choice(KINDS)),
    "made_on": Field("The day it was made.  [default: today]", DATE, metavar="YYYY-MM-DD"),
    "start": Field("Baseline day for returns; a window's first day.  [default: --made-on]",
                   DATE, metavar="YYYY-MM-DD"),
    "deadline": Field("Last day it can come true.  [default: 31 December of --made-on's "
                      "year]", DATE, metavar="YYYY-MM-DD"),
    "category": Field("A label to group by, like macro."),
    "notes": Field("Anything worth keeping: the quote, a source."),
    "scored": Field("--unscored: only a part of a composite, not a claim of its own.",
                    switch="--scored/--unscored"),
    "series": Field("The series it reads: yahoo:SYMBOL, fred:ID, polymarket:SLUG, "
                    "kalshi:TICKER or edgar:CIK.", metavar="SERIES"),
    "fallback": Field("A series read while --series has no fresh data.", metavar="SERIES"),
    "target": Field("threshold, race, level: the level.", click.FLOAT),
    "direction": Field("threshold, level: above or below; outperform: over or under.",
                       click.Choice(["above", "below", "over", "under"])),
    "touch": Field("threshold: touched on any day (default), or --close: beyond it at the "
                   "deadline's close.", switch="--touch/--close"),
    "meetings": Field("threshold on a rate set at meetings: each meeting day, with --step.",
                      DATE, many=True, metavar="YYYY-MM-DD"),
    "step": Field("threshold: one move at a meeting, like 0.25.", click.FLOAT),
    "against": Field("race: the level that must not come first.", click.FLOAT),
    "side": Field("market: the outcome claimed.", click.Choice(["yes", "no"])),
    "basket": Field("outperform, rank: each series of an equal-weight basket, instead of "
                    "--series.", many=True, metavar="SERIES"),
    "benchmark": Field("outperform: the series to beat (more than one: a basket).",
                       many=True, metavar="SERIES"),
    "universe": Field("rank: each rival series, or the name of a declared universe, like "
                      "major-assets.", many=True, metavar="SERIES|NAME"),
    "position": Field("rank: best or worst.", click.Choice(["best", "worst"])),
    "on": Field("level, estimate: the period of the released value, like 2026-01-01 for "
                "2026 in a yearly series.", DATE, metavar="YYYY-MM-DD"),
    "value": Field("estimate: the number claimed, with --tolerance.", click.FLOAT),
    "tolerance": Field("estimate: how far from --value still counts.", click.FLOAT),
    "range": Field("estimate: the lowest and highest value that count.", click.FLOAT,
                   pair=True, metavar="LOW HIGH"),
    "market": Field("level: a market on the same question, for a probability.", metavar="SERIES"),
    "market_side": Field("level: the side of --market that means the claim comes true.",
                         click.Choice(["yes", "no"])),
    "levels": Field("level, estimate of a year's real GDP growth: quarterly real GDP, "
                    "with --nowcast.", metavar="SERIES"),
    "nowcast": Field("level, estimate of a year's real GDP growth: a nowcast of the "
                     "quarter, with --levels.", metavar="SERIES"),
    "proxy": Field("manual: a series shown for context.", metavar="SERIES"),
    "reason": Field("manual: why no data can judge it."),
    "n": Field("at_least: how many of --of must come true.", click.INT),
    "of": Field("at_least, all_of, any_of: each part's id.", many=True, metavar="ID"),
}
COMMON = ("id", "who", "claim", "kind")  # asked for first, whatever the kind


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _field_options(command):
    for name, field in reversed(FIELDS.items()):
        decls = [field.switch] if field.switch else [flag(name)]
        extra: dict[str, Any] = {"default": None}
        if field.many:
            extra = {"multiple": True}
        elif field.pair:
            extra["nargs"] = 2
        if not field.switch:
            extra |= {"type": field.type, "metavar": field.metavar}
        command = click.option(*decls, name, help=field.help, **extra)(command)
    return command


@cli.command()
@_field_options
@click.option("--file", "file", metavar="PATH",
              help="The registry file to add to.  [default: the first of [registry] files, "
                   "else predictions.toml beside the config]")
@json_option
@pass_app
@handle_errors
def add(app: App, file: str | None, as_json: bool, **given: Any) -> None:
    """Add a prediction of your own to your registry file.

    Each field is a flag of the same name; a list repeats its flag. In a terminal, the
    fields a kind needs are asked for when left out. For example:

    \b
    tracker add --id me-gold-5000 --who Me --kind threshold \\
      --claim "Gold trades above $5,000 in 2026." \\
      --series yahoo:GC=F --target 5000 --direction above
    """
    from tracker.registry import RegistryError
    from tracker.registry.writer import add_prediction, target_file

    fields = _complete(_fields(given))
    path = target_file(app.settings, file)
    try:
        added = add_prediction(app.settings, fields, path)
    except RegistryError as exc:
        kind = fields.get("kind")
        fail("; ".join(_in_flags(problem, kind) for problem in exc.problems), EXIT_USAGE)
    if as_json:
        emit_json({"id": added.prediction.id, "file": str(added.path.absolute()),
                   "created": added.created, "read_by_registry": added.read_by_registry,
                   "fields": fields, "toml": added.text})
    else:
        _report(app, added)


def _fields(given: dict[str, Any]) -> dict[str, Any]:
    """The flags' values as the fields of a [[prediction]] table (None: not given)."""
    fields: dict[str, Any] = {}
    for name, value in given.items():
        if value in (None, ()):
            continue
        if isinstance(value, datetime):
            value = value.date()
        elif isinstance(value, tuple):
            value = [v.date() if isinstance(v, datetime) else v for v in value]
        fields[name] = value
    if "made_on" not in fields:
        fields["made_on"] = date.today()
    # One benchmark is a series, several a basket; one universe without a source is a name.
    if len(fields.get("benchmark", [])) == 1:
        fields["benchmark"] = fields["benchmark"][0]
    universe = fields.get("universe", [])
    if len(universe) == 1 and ":" not in universe[0]:
        fields["universe"] = universe[0]
    return _ordered(fields)


def _ordered(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: fields[name] for name in FIELDS if name in fields}


def missing(fields: dict[str, Any]) -> list[str]:
    """The fields this prediction still needs, in the order they are asked for."""
    from tracker.registry.schema import KINDS as MODELS

    needed = [name for name in COMMON if name not in fields]
    kind = fields.get("kind")
    if kind is None:
        return needed
    model = MODELS[kind].model_fields
    needed += [name for name, info in model.items()
               if info.is_required() and name not in fields and name not in needed]
    # Either of two fields will do: ask for the first.
    for one, other in (("series", "basket"), ("value", "range")):
        if one in model and other in model and one not in fields and other not in fields:
            needed.append(one)
    if kind == "estimate" and "range" not in fields and "tolerance" not in fields:
        needed.append("tolerance")
    return needed


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _complete(fields: dict[str, Any]) -> dict[str, Any]:
    """Ask for each missing field in a terminal; elsewhere, name them all and stop."""
    while needed := missing(fields):
        if not stdin_is_terminal():
            kind = fields.get("kind")
            what = f" for a {kind} prediction" if kind else ""
            fail(f"missing {', '.join(flag(name) for name in needed)}{what} "
                 "(see 'tracker add --help')", EXIT_USAGE)
        fields[needed[0]] = _ask(needed[0])
    return _ordered(fields)


def _ask(name: str) -> Any:
    """One field's value, asked on stderr (stdout stays for --json), until it parses."""
    field = FIELDS[name]
    label = name.replace("_", " ")
    if not (field.many or field.pair):
        value = click.prompt(label, type=field.type, err=True)
        return value.date() if isinstance(value, datetime) else value
    while True:
        text = click.prompt(f"{label} (separated by spaces)", err=True)
        try:
            items = [field.type.convert(item, None, None) for item in text.replace(",", " ").split()]
        except click.BadParameter as exc:
            click.echo(f"Error: {exc.message}", err=True)
            continue
        items = [item.date() if isinstance(item, datetime) else item for item in items]
        if field.pair and len(items) != 2:
            click.echo("Error: give two numbers, the lowest and the highest", err=True)
            continue
        if name == "universe" and len(items) == 1 and ":" not in items[0]:
            return items[0]
        return items


def _in_flags(problem: str, kind: str | None) -> str:
    """A schema problem ("target: Input should be a finite number") in the flags' words."""
    problem = problem.removeprefix("(prediction): ")
    name, sep, message = problem.partition(": ")
    if not sep or name not in FIELDS:
        return problem
    if message == "unknown field":
        return f"{flag(name)}: not a field of a {kind} prediction"
    return f"{flag(name)}: {message}"


def _report(app: App, added: Added) -> None:
    from tracker.textsafe import visible

    new = " (a new file)" if added.created else ""
    click.echo(f"added {added.prediction.id} to {visible(added.path.absolute())}{new}:\n")
    for line in added.text.splitlines():
        click.echo(f"  {visible(line)}")  # the TOML escapes control characters; bidi marks too
    tracker = f"tracker --config {app.config_path}" if app.config_path else "tracker"
    if not added.read_by_registry:
        where = app.settings.path or "your config file"
        click.echo(f"\nnote: the registry does not read this file: list it in [registry] "
                   f"files in {visible(where)}")
    then = (f"`{tracker} resolve {added.prediction.id} right|wrong|void` once it is decided"
            if added.prediction.kind == "manual" else f"`{tracker} poll` to fetch its data")
    click.echo(f"\nnext: `{tracker} check` to validate the registry,\nthen {then}.")
