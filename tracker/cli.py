"""The command line: thin commands over library functions.

Exit codes (DESIGN section 6): 0 success; 1 the work failed (for ``poll``: at least one
source failed, the others were still stored); 2 bad usage or bad config, with one line
on stderr and no traceback. Every listing command takes ``--json``: machine output on
stdout and nothing else there.
"""

from __future__ import annotations

import functools
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import click

from tracker import __version__
from tracker.formats import brier, n_of, number, percent, record, when

EXIT_FAILED = 1
EXIT_USAGE = 2


class App:
    """What the commands share: settings, registry and database, loaded on first use."""

    def __init__(self, config_path: str | None):
        self.config_path = config_path

    @functools.cached_property
    def settings(self):
        from tracker.config import load_settings

        return load_settings(self.config_path)

    @functools.cached_property
    def registry(self):
        from tracker.registry import load_registry

        return load_registry(self.settings)

    @functools.cached_property
    def engine(self):
        from db.engine import READ, open_database

        command = click.get_current_context().command.name
        return open_database(self.settings.database.url, DATABASE_ACCESS.get(command, READ))


# Who may do what to the schema (db/engine.py): the daemon upgrades it; the other writers
# create a new database but refuse to upgrade one; every other command only reads.
DATABASE_ACCESS = {"run": "upgrade", "poll": "write", "backfill": "write", "resolve": "write"}


def _fail(message: str, code: int) -> None:
    from tracker.textsafe import visible

    click.echo(f"tracker: {visible(message)}", err=True)  # may quote registry text
    sys.exit(code)


def handle_errors(command):
    """Library errors become one line on stderr and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from sqlalchemy.exc import DBAPIError

        from db.engine import DatabaseError, SchemaError, storage_error
        from tracker.config import ConfigError
        from tracker.registry import RegistryError

        try:
            return command(*args, **kwargs)
        except (ConfigError, RegistryError) as exc:
            _fail(str(exc), EXIT_USAGE)
        except DBAPIError as exc:  # the database failed mid-command: full, read-only, gone
            _fail(str(storage_error(exc, _database_url(args))), EXIT_FAILED)
        except DatabaseError as exc:
            code = EXIT_USAGE if isinstance(exc, SchemaError) else EXIT_FAILED
            if exc.logged:  # the daemon's log said it already
                sys.exit(code)
            _fail(str(exc), code)
        except OSError as exc:  # a file the command writes: a missing folder, a full disk
            _fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc), EXIT_FAILED)

    return wrapper


def _database_url(args) -> str:
    app = next((arg for arg in args if isinstance(arg, App)), None)
    return app.settings.database.url if app is not None else "(the database)"


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Machine output (JSON) on stdout.")(
        command
    )


def emit_json(data: Any) -> None:
    from tracker.jsonout import dumps

    click.echo(dumps(data))


def _console():
    from rich.console import Console

    return Console(soft_wrap=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file (default: $TRACKER_CONFIG, else ./config.toml).",
)
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Track public predictions against market data."""
    # Commands print what matters themselves; without a handler, library warnings would
    # reach stderr a second time through logging's last resort. `run` sets up real logging.
    logging.getLogger("tracker").addHandler(logging.NullHandler())
    ctx.obj = App(config_path)


pass_app = click.make_pass_decorator(App)


@cli.command()
@click.option("--online", is_flag=True,
              help="Also ask each source that every linked series exists and has recent data.")
@pass_app
@handle_errors
def check(app: App, online: bool) -> None:
    """Validate the config and the registry, and say what is wrong."""
    from tracker.registry.loader import check_registry
    from tracker.textsafe import visible

    settings = app.settings
    registry, problems = check_registry(settings)
    for problem in problems:
        click.echo(visible(problem), err=True)  # quotes registry text
    if problems:
        sys.exit(EXIT_USAGE)
    origin = settings.path or "defaults (no config file)"
    click.echo(
        f"ok: {origin}; {len(registry)} predictions reading {len(registry.series_ids())} series"
    )
    if online:
        _check_links(app, registry)


def _check_links(app: App, registry) -> None:
    """A line per problem with the registry's links; exit 1 when there is any."""
    from tracker.service.links import check_links
    from tracker.textsafe import visible

    problems = check_links(app.settings, registry)
    for problem in problems:
        click.echo(visible(problem))  # plain text: symbols and API messages are not markup
    if problems:
        click.echo(f"online: {len(problems)} problem{'s' if len(problems) > 1 else ''} with links")
        sys.exit(EXIT_FAILED)
    click.echo(f"online: all {len(registry.series_ids())} series exist and have recent data")


@cli.command()
@click.option("--source", "source_names", multiple=True, metavar="NAME", help="Poll only this source (repeatable).")
@pass_app
@handle_errors
def poll(app: App, source_names: tuple[str, ...]) -> None:
    """Run one poll cycle now, then evaluate; one line per source."""
    from tracker.service.poll import run_cycle
    from tracker.textsafe import visible

    _check_sources(source_names)
    registry, engine = app.registry, app.engine
    # Asked for by hand: poll every source now, even one the daemon is backing off.
    result = run_cycle(app.settings, registry, engine, set(source_names) or None,
                       honour_backoff=False)
    if not result.lines:
        click.echo("nothing to poll: no prediction reads these sources")
    for line in result.lines:
        click.echo(visible(line))  # carries the sources' error messages
    if not result.ok:
        sys.exit(EXIT_FAILED)


def _check_sources(names: tuple[str, ...]) -> None:
    from tracker.sources import SOURCES

    unknown = sorted(set(names) - set(SOURCES))
    if unknown:
        raise click.BadParameter(
            f"unknown source {unknown[0]!r} (known: {', '.join(sorted(SOURCES))})",
            param_hint="--source",
        )


def status_rows(app: App) -> list[dict[str, Any]]:
    from db import queries
    from tracker.quick import remember_status
    from tracker.views import status as status_view

    rows = status_view.status_rows(status_view.summaries(app.registry),
                                   queries.latest_snapshots(app.engine))
    remember_status(app.settings, app.registry)  # so the next `status --json` is quick
    return rows


STATUS_STYLE = {
    "right": "bold green",
    "wrong": "bold red",
    "on_track": "green",
    "off_track": "yellow",
    "no_data": "dim",
    "open": "cyan",
    "void": "magenta",
}


@cli.command()
@json_option
@pass_app
@handle_errors
def status(app: App, as_json: bool) -> None:
    """Every prediction: who, claim, status, probability, value, as of."""
    rows = status_rows(app)
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    from tracker.textsafe import text

    table = Table(show_lines=False, header_style="bold")
    for name in ("Who", "Claim", "Status", "P", "Value", "As of"):
        table.add_column(name, justify="right" if name in ("P", "Value") else "left")
    for row in rows:  # Text, not markup: claims and market titles are untrusted
        table.add_row(
            text(row["who"]),
            _claim_cell(row),
            text(row["status"], style=STATUS_STYLE.get(row["status"], "")),
            percent(row["probability"]),
            _value(row["value"], row["side"]),
            when(row["as_of"]),
        )
    _console().print(table)


def _claim_cell(row: dict[str, Any]):
    """The claim; for a part of a composite, which one; then the id and explanation."""
    from tracker.textsafe import text, visible

    cell = text(row["claim"])
    if row["part_of"]:
        cell.append(f"\n{visible(_part_of(row['part_of']))}", style="italic")
    cell.append(f"\n{visible(row['id'])}: {visible(row['explanation'])}", style="dim")
    return cell


def _part_of(composites: list[str]) -> str:
    return f"part of {', '.join(composites)}"


def _value(value: float | None, side: str | None) -> str:
    """The headline value; for a market, the price of the side claimed, named: 'no 86%'."""
    from tracker.views.status import side_price

    if side is None or value is None:
        return number(value)
    return f"{side} {percent(side_price(value, side))}"


def _stale_series(app: App) -> dict[str, bool]:
    from db import queries
    from tracker.service.freshness import staleness

    return staleness(app.engine, queries.all_series_ids(app.engine), datetime.now(UTC),
                     app.settings)


def series_rows(app: App) -> list[dict[str, Any]]:
    from db import queries
    from tracker.quick import remember_series
    from tracker.views import series as series_view

    rows = series_view.series_rows(queries.series_overview(app.engine),
                                   queries.source_health(app.engine), _stale_series(app))
    remember_series(app.settings)  # so the next `series --json` is quick
    return rows


@cli.command()
@json_option
@pass_app
@handle_errors
def series(app: App, as_json: bool) -> None:
    """Every stored series: last value, when, point count and source health."""
    rows = series_rows(app)
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table
    from rich.text import Text

    from tracker.textsafe import text, visible

    table = Table(header_style="bold")
    for name in ("Series", "Name", "Last", "When", "Points", "Source health"):
        table.add_column(name, justify="right" if name in ("Last", "Points") else "left")
    for row in rows:  # a market's name and a source's error are untrusted: never markup
        health = row["source_health"]
        if health is None:
            state = Text("-")
        elif health["ok"]:
            state = Text.assemble(("ok", "green"), f" {when(health['last_success_at'])}")
        else:
            state = Text.assemble((f"failing x{health['consecutive_failures']}", "red"),
                                  f": {visible(health['last_error'])}")
        last_at = Text(when(row["last_at"]))
        if row["stale"]:
            last_at.append(" ").append("stale", style="red")
        table.add_row(
            text(row["id"]), text(row["name"] or ""), number(row["last_value"]), last_at,
            str(row["points"]), state,
        )
    if rows:
        _console().print(table)
    else:
        click.echo("no series stored yet: run `tracker poll`")
    _print_failing_sources(app)


@cli.command()
@json_option
@pass_app
@handle_errors
def health(app: App, as_json: bool) -> None:
    """Each source: last attempt and success, failures and since when, the last error,
    when it will be asked again; and the series that are stale."""
    from db import queries

    sources = []
    for name, h in sorted(queries.source_health(app.engine).items()):
        symbol_errors = queries.symbol_errors(h)
        sources.append({
            "source": name,
            "ok": h.consecutive_failures == 0,
            "last_attempt_at": h.last_attempt_at,
            "last_success_at": h.last_success_at,
            "consecutive_failures": h.consecutive_failures,
            "failing_since": h.failing_since,
            "last_error": h.last_error,
            "failing_symbols": sorted(symbol_errors),
            "symbol_errors": symbol_errors,
            "next_allowed_at": h.next_allowed_at,
        })
    stale = sorted(sid for sid, is_stale in _stale_series(app).items() if is_stale)
    if as_json:
        emit_json({"sources": sources, "stale_series": stale})
        return
    if not sources:
        click.echo("no poll has run yet: run `tracker poll` or `tracker run`")
    for s in sources:
        _print_source_health(s, datetime.now(UTC))
    click.echo(f"stale series: {', '.join(stale)}" if stale else "stale series: none")


def _print_source_health(s: dict[str, Any], now: datetime) -> None:
    """A source's lines in `tracker health`. Symbols of a working source that failed on
    their own (unknown, delisted) are listed under it, one line each."""
    from tracker.textsafe import visible

    if s["ok"]:
        problems = s["symbol_errors"]
        failing = f"; {len(problems)} symbol{'s' if len(problems) > 1 else ''} failing" if problems else ""
        click.echo(f"{s['source']}: ok, last success {when(s['last_success_at'])}{failing}")
        for symbol, message in sorted(problems.items()):
            click.echo(visible(f"  {s['source']}:{symbol}: {message}"))
        return
    click.echo(f"{s['source']}: FAILING since {when(s['failing_since'])} "
               f"({s['consecutive_failures']} polls in a row; last success "
               f"{when(s['last_success_at']) if s['last_success_at'] else 'never'})")
    click.echo(f"  last error: {visible(s['last_error'])}")
    if s["next_allowed_at"] and s["next_allowed_at"] > now:
        click.echo(f"  backing off: next try after {when(s['next_allowed_at'])}")


def _print_failing_sources(app: App) -> None:
    from db import queries
    from tracker.textsafe import visible

    for name, h in sorted(queries.source_health(app.engine).items()):
        if h.consecutive_failures:
            last_ok = when(h.last_success_at) if h.last_success_at else "never"
            click.echo(
                f"{name}: failing, {h.consecutive_failures} polls in a row "
                f"(last ok: {last_ok}): {visible(h.last_error)}"
            )


@cli.group()
def markets() -> None:
    """Find prediction markets to link to a prediction."""


@markets.command("search")
@click.argument("text")
@json_option
@pass_app
@handle_errors
def markets_search(app: App, text: str, as_json: bool) -> None:
    """Search Polymarket: slug, question, Yes price, end date, closed."""
    import asyncio

    from tracker.sources import polymarket
    from tracker.sources.base import SourceError
    from tracker.sources.http import HttpClient
    from tracker.textsafe import visible

    async def go():
        async with HttpClient.from_settings(app.settings) as http:
            return await polymarket.search(http, app.settings, text)

    try:
        found = asyncio.run(go())
    except SourceError as exc:
        _fail(f"Polymarket search failed: {exc}", EXIT_FAILED)
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo(f"no Polymarket markets match {text!r}")
        return
    # A block per market, slug on its own line: it is what the user copies into a
    # prediction, so it is never wrapped or cut whatever the terminal's width.
    for market in found:
        facts = [f"Yes {percent(market['yes_price'])}", f"ends {(market['end_date'] or '-')[:10]}"]
        if market["closed"]:
            facts.append("closed")
        click.echo(f"{visible(market['slug'])}\n  {visible(market['question'])}\n  "
                   f"{' · '.join(facts)}")


@cli.command()
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE",
              help="Start of the history to fetch (default: 120 days before each prediction's start).")
@click.option("--source", "source_names", multiple=True, metavar="NAME",
              help="Backfill only this source (repeatable).")
@pass_app
@handle_errors
def backfill(app: App, since: datetime | None, source_names: tuple[str, ...]) -> None:
    """Fetch the history of every series the registry needs; safe to interrupt and rerun."""
    from tracker.service.backfill import backfill as run_backfill
    from tracker.views.backfill import BarReporter, PlainReporter

    _check_sources(source_names)
    registry, engine = app.registry, app.engine
    options = {"since": since.date() if since else None, "sources": set(source_names) or None}
    if sys.stdout.isatty():
        with BarReporter() as reporter:
            result = run_backfill(app.settings, registry, engine, reporter=reporter, **options)
    else:
        result = run_backfill(app.settings, registry, engine, reporter=PlainReporter(), **options)
    if not result.tasks:
        click.echo("nothing to backfill: no prediction reads these sources")
    if not result.ok:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("prediction_id", metavar="ID")
@click.argument("outcome", type=click.Choice(["right", "wrong", "void"]), required=False)
@click.option("--note", default="", help="Why: stored with the verdict and shown with it.")
@click.option("--undo", is_flag=True, help="Remove the manual verdict; the automatic status returns.")
@pass_app
@handle_errors
def resolve(app: App, prediction_id: str, outcome: str | None, note: str, undo: bool) -> None:
    """Give a prediction a manual verdict (right, wrong or void); it overrides the data."""
    from db import queries
    from tracker.service.evaluation import evaluate_all
    from tracker.textsafe import visible

    _known_prediction(app, prediction_id)
    if undo == (outcome is not None):
        _fail("give an outcome (right, wrong or void) or --undo", EXIT_USAGE)
    now = datetime.now(UTC)
    if undo:
        if not queries.remove_resolution(app.engine, prediction_id):
            _fail(f"{prediction_id} has no manual verdict to undo", EXIT_USAGE)
    else:
        queries.set_resolution(app.engine, prediction_id, outcome, note, now)
    result = evaluate_all(app.engine, app.registry, now, app.settings)[prediction_id]
    click.echo(f"{prediction_id}: {result.status.value}: {visible(result.explanation)}")


def _known_prediction(app: App, prediction_id: str):
    prediction = app.registry.get(prediction_id)
    if prediction is None:
        _fail(f"no prediction {prediction_id!r}: `tracker status` lists them", EXIT_USAGE)
    return prediction


@cli.command()
@click.argument("prediction_id", metavar="ID")
@json_option
@pass_app
@handle_errors
def show(app: App, prediction_id: str, as_json: bool) -> None:
    """One prediction in full: rule, inputs, status history and its odds drawn."""
    from tracker.views.show import gather_prediction, render

    details = gather_prediction(app.engine, app.registry, _known_prediction(app, prediction_id))
    if as_json:
        emit_json(details)
        return
    click.echo("\n".join(render(details)))


@cli.command()
@json_option
@pass_app
@handle_errors
def scoreboard(app: App, as_json: bool) -> None:
    """Per person, best first by expected hit rate: verdicts by data and by hand, open and
    unpriced calls, and Brier scores beside the price on the day of the call."""
    from db import queries
    from tracker.scoreboard import score
    from tracker.service.evaluation import made_on_prices

    latest = {pid: (snap.status, snap.probability, snap.model)
              for pid, snap in queries.latest_snapshots(app.engine).items()}
    rows = score(app.registry, latest, made_on_prices(app.engine, app.registry))
    if as_json:
        emit_json([row.as_dict() for row in rows])
        return
    _console().print(_scoreboard_table(rows))
    click.echo(SCOREBOARD_KEY)


SCOREBOARD_COLUMNS = ("Who", "Expected\nhit rate", "Data\nR/W", "Hand\nR/W", "Void", "Open",
                      "Unpriced", "Brier\ncall/price")
SCOREBOARD_KEY = (
    "Expected hit rate: calls right plus the chances of those open, of the calls\n"
    "resolved or with a chance; ties go to the larger n. Unpriced: open calls with\n"
    "no chance (no data, or awaiting `tracker resolve`), left out of the rate. R/W:\n"
    "right/wrong, by data or by hand. Brier: the calls taken as certain, then the\n"
    "price on the day of the call (lower is better), over resolved priced calls. n:\n"
    "the calls behind a figure. --json adds edge, boldness and yield against that\n"
    "price."
)


def _scoreboard_table(rows):
    from rich.table import Table

    from tracker.textsafe import text

    table = Table(header_style="bold underline", box=None, pad_edge=False, padding=(0, 1))
    for name in SCOREBOARD_COLUMNS:
        table.add_column(name, justify="left" if name == "Who" else "right", no_wrap=True)
    for row in rows:
        table.add_row(
            text(row.who), f"{percent(row.expected_hit_rate)} {n_of(row.rate_n)}",
            record(row.right_by_data, row.wrong_by_data),
            record(row.right_by_hand, row.wrong_by_hand),
            str(row.void), str(row.open), str(row.unpriced),
            f"{brier(row.brier, row.price_brier)} {n_of(len(row.briers))}",
        )
    return table


@cli.command()
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE",
              help="The local date the digest is for (default: today in [email] timezone).")
@click.option("--preview", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              callback=lambda _ctx, _param, value: _in_a_folder(value),
              help="Write the HTML digest to FILE, charts inline, to open in a browser.")
@click.option("--text", "show_text", is_flag=True, help="Print the plain-text digest.")
@click.option("--send", "do_send", is_flag=True, help="Send it, once a day (see --force).")
@click.option("--to", "to", multiple=True, metavar="ADDR",
              help="Send a one-off copy to ADDR instead (repeatable; not logged).")
@click.option("--force", is_flag=True, help="Send even if this date's digest was sent already.")
@pass_app
@handle_errors
def digest(app: App, day: datetime | None, preview: str | None, show_text: bool,
           do_send: bool, to: tuple[str, ...], force: bool) -> None:
    """Build, preview or send the daily digest. Without options, print it as text."""
    from jobs.digest import compose, deliver, local_day

    now = datetime.now(UTC)
    local = day.date() if day else local_day(now, app.settings.email.timezone)
    if do_send or to:
        from tracker.digest.send import SendError

        try:
            delivery = deliver(app.settings, app.registry, app.engine, local, force=force,
                               to=list(to) or None, now=now)
        except SendError as exc:
            _fail(f"digest for {local} not sent: {exc}", EXIT_FAILED)
        if delivery.sent:
            where = ", ".join(to) if to else ", ".join(app.settings.email.to)
            click.echo(f"digest for {local} sent to {where} ({delivery.message_id})")
        else:
            click.echo(delivery.reason)
        if not (preview or show_text):
            return
    if preview or show_text or not (do_send or to):
        from tracker.digest.render import preview_html, render_text

        built, _message, charts = compose(app.settings, app.registry, app.engine, local, now)
        if preview:
            with open(preview, "w", encoding="utf-8") as out:
                out.write(preview_html(built, charts))
            click.echo(f"wrote {preview}")
        if show_text or not (preview or do_send or to):
            click.echo(render_text(built))


@cli.command()
@click.option("--log-json", is_flag=True, help="Log JSON lines (time, level, logger, message).")
@pass_app
@handle_errors
def run(app: App, log_json: bool) -> None:
    """Run the daemon: poll on schedule until SIGTERM or SIGINT; SIGHUP reloads the config."""
    from jobs.leader import AlreadyRunning
    from jobs.scheduler import run_daemon
    from tracker.logs import configure_logging
    from tracker.registry import load_registry

    configure_logging(json_lines=log_json)

    def reload():
        from tracker.config import load_settings

        settings = load_settings(app.config_path)
        return settings, load_registry(settings)

    try:
        run_daemon(app.settings, app.registry, app.engine, reload=reload)
    except AlreadyRunning as exc:
        _fail(str(exc), EXIT_USAGE)


def _in_a_folder(path: str | None) -> str | None:
    """Refuse a file in a folder that does not exist before the work, not after it."""
    from pathlib import Path

    if path is not None and not Path(path).absolute().parent.is_dir():
        raise click.BadParameter(f"no folder {str(Path(path).parent)!r} to write {path!r} in",
                                 param_hint="--preview")
    return path


@cli.command()
@pass_app
@handle_errors
def migrate(app: App) -> None:
    """Upgrade the database's schema to this version's (creating it if need be)."""
    from db.engine import upgrade_database

    before, after = upgrade_database(app.settings.database.url)
    if before == after:
        click.echo(f"the schema is up to date (revision {after})")
    else:
        click.echo(f"migrated the schema from revision {before or 'none (new database)'} "
                   f"to {after}")


def main() -> None:
    """Run the CLI; a bad argument is one line on stderr and exit 2, like a bad config."""
    try:
        code = cli.main(prog_name="tracker", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(f"{exc.format_message()}{hint}", EXIT_USAGE)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        _fail("interrupted", 130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
