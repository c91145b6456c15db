"""The commands about market and price data: `poll` fetches it now, `backfill` fetches its
history, `series` lists what is stored, `health` says how each source is doing."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_FAILED, handle_errors
from tracker.cli.output import listing, print_table, table
from tracker.formats import number, when


def _check_sources(names: tuple[str, ...]) -> None:
    from tracker.sources import SOURCES

    unknown = sorted(set(names) - set(SOURCES))
    if unknown:
        raise click.BadParameter(
            f"unknown source {unknown[0]!r} (known: {', '.join(sorted(SOURCES))})",
            param_hint="--source",
        )


def _stale_series(app: App) -> dict[str, bool]:
    from db import queries
    from tracker.service.freshness import staleness

    return staleness(app.engine, queries.all_series_ids(app.engine), datetime.now(UTC),
                     app.settings)


# ---- poll and backfill ---------------------------------------------------------------

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


@cli.command()
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE",
              help="Start of the history to fetch (default: 120 days before each prediction's start).")
@click.option("--source", "source_names", multiple=True, metavar="NAME",
              help="Backfill only this source (repeatable).")
@pass_app
@handle_errors
def backfill(app: App, since: datetime | None, source_names: tuple[str, ...]) -> None:
    """Fetch the history of every series the registry needs; safe to interrupt and rerun."""
    from tracker.cli.progress import BarReporter, PlainReporter
    from tracker.service.backfill import backfill as run_backfill

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


# ---- series --------------------------------------------------------------------------

def _print_series(rows: list[dict[str, Any]], *, app: App, **_) -> None:
    from rich.text import Text

    from tracker.textsafe import text, visible

    shown = table(("Series", "Name", "Last", "When", "Points", "Source health"),
                  right=("Last", "Points"))
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
        shown.add_row(
            text(row["id"]), text(row["name"] or ""), number(row["last_value"]), last_at,
            str(row["points"]), state,
        )
    if rows:
        print_table(shown)
    else:
        click.echo("no series stored yet: run `tracker poll`")
    _print_failing_sources(app)


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


@cli.command()
@listing(text=_print_series)
def series(app: App) -> list[dict[str, Any]]:
    """Every stored series: last value, when, point count and source health."""
    from db import queries
    from tracker.quick import remember_series
    from tracker.views.series import series_rows

    rows = series_rows(queries.series_overview(app.engine), queries.source_health(app.engine),
                       _stale_series(app))
    remember_series(app.settings)  # so the next `series --json` is quick
    return rows


# ---- health --------------------------------------------------------------------------

def _print_health(found: dict[str, Any], **_) -> None:
    if not found["sources"]:
        click.echo("no poll has run yet: run `tracker poll` or `tracker run`")
    for source in found["sources"]:
        _print_source_health(source, datetime.now(UTC))
    stale = found["stale_series"]
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


@cli.command()
@listing(text=_print_health)
def health(app: App) -> dict[str, Any]:
    """Each source: last attempt and success, failures and since when, the last error,
    when it will be asked again; and the series that are stale."""
    from db import queries
    from tracker.views.health import health_report

    return health_report(queries.source_health(app.engine), _stale_series(app))
