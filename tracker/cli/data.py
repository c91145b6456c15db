"""The commands about market and price data: `poll` fetches it now, `backfill` fetches its
history, `series` lists what is stored, `health` says how each source is doing."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_FAILED, handle_errors
from tracker.cli.output import emit_json, json_option, listing, print_text, terminal

if TYPE_CHECKING:
    from tracker.service.poll import SourceLine


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
@json_option
@pass_app
@handle_errors
def poll(app: App, source_names: tuple[str, ...], as_json: bool) -> None:
    """Run one poll cycle now, then evaluate; one line per source."""
    from tracker.service.poll import run_cycle

    _check_sources(source_names)
    registry, engine = app.registry, app.engine
    # Asked for by hand: poll every source now, even one the daemon is backing off.
    result = run_cycle(app.settings, registry, engine, set(source_names) or None,
                       honour_backoff=False)
    if as_json:
        emit_json({"ok": result.ok, "sources": [line.as_dict() for line in result.lines]})
    else:
        _print_poll(result.lines)
    if not result.ok:
        sys.exit(EXIT_FAILED)


def _print_poll(lines: list[SourceLine]) -> None:
    """A line per source, and one per cause under a source that failed for several."""
    from tracker.textsafe import visible

    if not lines:
        click.echo("nothing to poll: no prediction reads these sources")
    for line in lines:
        for shown in line.shown():
            click.echo(visible(shown))  # carries the sources' error messages


@cli.command()
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE",
              help="Start of the history to fetch (default: 120 days before each prediction's start).")
@click.option("--source", "source_names", multiple=True, metavar="NAME",
              help="Backfill only this source (repeatable).")
@json_option
@pass_app
@handle_errors
def backfill(app: App, since: datetime | None, source_names: tuple[str, ...],
             as_json: bool) -> None:
    """Fetch the history of every series the registry needs; safe to interrupt and rerun."""
    from tracker.cli.progress import BarReporter, PlainReporter
    from tracker.service.backfill import Reporter
    from tracker.service.backfill import backfill as run_backfill

    _check_sources(source_names)
    registry, engine = app.registry, app.engine
    options = {"since": since.date() if since else None, "sources": set(source_names) or None}
    if as_json:  # stdout holds the JSON alone: no progress
        result = run_backfill(app.settings, registry, engine, reporter=Reporter(), **options)
        emit_json({"ok": result.ok, "series": [
            {"id": task.series_id, "since": task.since, "points": task.points,
             "error": task.error} for task in result.tasks]})
    elif sys.stdout.isatty():
        with BarReporter() as reporter:
            result = run_backfill(app.settings, registry, engine, reporter=reporter, **options)
    else:
        result = run_backfill(app.settings, registry, engine, reporter=PlainReporter(), **options)
    if not result.tasks and not as_json:
        click.echo("nothing to backfill: no prediction reads these sources")
    if not result.ok:
        sys.exit(EXIT_FAILED)


# ---- series --------------------------------------------------------------------------

def _print_series(rows: list[dict[str, Any]], *, app: App, **_) -> None:
    from db import queries
    from tracker.views.series import series_text

    print_text(series_text(rows, queries.source_health(app.engine), **terminal()))


@cli.command()
@listing(text=_print_series)
def series(app: App) -> list[dict[str, Any]]:
    """Every stored series: last value, when, point count and source health."""
    from db import queries
    from tracker.quick import remember
    from tracker.registry.labels import LABELS
    from tracker.views.series import series_rows

    rows = series_rows(queries.series_overview(app.engine), queries.source_health(app.engine),
                       _stale_series(app), LABELS)
    remember("series", app.settings)  # so the next `series` is quick
    return rows


# ---- health --------------------------------------------------------------------------

def _print_health(found: dict[str, Any], *, quiet: bool = False, verbose: bool = False,
                  **_) -> None:
    from tracker.views.health import health_text, problem_lines

    if quiet:
        print_text("".join(line + "\n" for line in problem_lines(found)))
    else:
        print_text(health_text(found, datetime.now(UTC), verbose=verbose))


def _health_code(found: dict[str, Any]) -> int:
    return EXIT_FAILED if found.get("ok") is False else 0


@cli.command()
@click.option("--verbose", "-v", is_flag=True,
              help="Each failing series with its whole error, not a line per cause.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the problems, if any.")
@listing(text=_print_health, exit_code=_health_code)
def health(app: App, verbose: bool, quiet: bool) -> dict[str, Any]:
    """Each source: last attempt and success, failures and since when, why it failed,
    when it will be asked again; the series that are stale; the notifications waiting; the
    leading daemon. Exits 1 when something is wrong: a source group not polled
    successfully for three of its intervals, no daemon leading, or notifications stuck."""
    from tracker.quick import remember
    from tracker.views.health import report

    # The demo is a sample year that no daemon polls: nothing to judge.
    found = report(app.engine, app.settings, app.registry, _stale_series(app), judge=not app.demo)
    if not app.demo:
        remember("health", app.settings, app.registry)  # so the next `health` is quick
    return found
