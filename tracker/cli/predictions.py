"""The commands about predictions: `status` lists them, `show` tells one in full,
`resolve` gives one a verdict by hand, `scoreboard` ranks the people who made them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_USAGE, fail, handle_errors
from tracker.cli.output import emit_json, json_option, listing, print_text, terminal

if TYPE_CHECKING:
    from tracker.registry.schema import PredictionBase
    from tracker.scoreboard import PersonScore


def known_prediction(app: App, prediction_id: str) -> PredictionBase:
    """The registry's prediction ``prediction_id``; bad usage when there is none."""
    prediction = app.registry.get(prediction_id)
    if prediction is None:
        fail(f"no prediction {prediction_id!r}: `tracker status` lists them", EXIT_USAGE)
    return prediction


def complete_id(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list:
    """The prediction ids that start with ``incomplete``, for shell completion
    (docs/completion.md), each with its claim for the shells that show one. Read from the
    config and the registry, never the database; none when they cannot be read."""
    from click.shell_completion import CompletionItem

    from tracker.textsafe import visible

    try:
        registry = App(ctx.find_root().params.get("config_path")).registry
    except Exception:  # noqa: BLE001 (a completion never fails: it offers nothing)
        return []
    return [CompletionItem(p.id, help=visible(p.claim)) for p in registry
            if p.id.startswith(incomplete)]


# ---- status --------------------------------------------------------------------------

def _print_status(rows: list[dict[str, Any]], *, wide: bool, **_) -> None:
    from tracker.views.status import compact_text, status_text

    print_text((status_text if wide else compact_text)(rows, **terminal()))


def _statuses(_ctx, param, values: tuple[str, ...]) -> frozenset[str]:
    from tracker.views.status import statuses_of

    try:
        return statuses_of(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def _kinds(_ctx, param, values: tuple[str, ...]) -> frozenset[str]:
    from tracker.registry.schema import KINDS
    from tracker.views.status import listed

    kinds = listed(values)
    for kind in sorted(kinds - set(KINDS)):
        raise click.BadParameter(f"unknown kind {kind!r} (known: {', '.join(KINDS)})",
                                 param=param)
    return kinds


@cli.command()
@click.option("--who", metavar="NAME", help="Only this person's predictions: a name, or one "
              "word of it, in any case.")
@click.option("--status", "statuses", multiple=True, metavar="STATUS", callback=_statuses,
              help="Only these statuses (repeatable, or a comma list): right, wrong, "
                   "on_track, off_track, no_data, open, void.")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", callback=_kinds,
              help="Only these kinds (repeatable, or a comma list): market, threshold, ...")
@click.option("--open", "open_only", is_flag=True,
              help="Only predictions not settled yet (not right, wrong or void).")
@click.option("--wide", is_flag=True,
              help="The full table: who, claim, explanation, value, as of.")
@listing(text=_print_status)
def status(app: App, who: str | None, statuses: frozenset[str], kinds: frozenset[str],
           open_only: bool, wide: bool) -> list[dict[str, Any]]:
    """Every prediction, one line each: id, status, probability, claim."""
    from db import queries
    from tracker.quick import remember
    from tracker.views.status import Selection, select, status_rows, summaries

    rows = status_rows(summaries(app.registry), queries.latest_snapshots(app.engine))
    remember("status", app.settings, app.registry)  # so the next `status` is quick
    try:
        return select(rows, Selection(who, statuses, kinds, open_only))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--who'") from None


# ---- show ----------------------------------------------------------------------------

def _print_details(details: dict[str, Any], **_) -> None:
    from tracker.views.show import render

    click.echo("\n".join(render(details)))


@cli.command()
@click.argument("prediction_id", metavar="ID", shell_complete=complete_id)
@listing(text=_print_details)
def show(app: App, prediction_id: str) -> dict[str, Any]:
    """One prediction in full: rule, inputs, status history and its odds drawn."""
    from db import queries
    from tracker.quick import remember
    from tracker.views.show import gather_prediction

    found = gather_prediction(app.engine, app.registry, known_prediction(app, prediction_id))
    names = {sid: row.name for sid, row in
             queries.series_by_id(app.engine, app.registry.series_ids()).items()}
    remember("show", app.settings, app.registry, stored_names=names)  # the next `show` is quick
    return found


# ---- resolve -------------------------------------------------------------------------

@cli.command()
@click.argument("prediction_id", metavar="ID", shell_complete=complete_id)
@click.argument("outcome", type=click.Choice(["right", "wrong", "void"]), required=False)
@click.option("--note", default="", help="Why: stored with the verdict and shown with it.")
@click.option("--undo", is_flag=True, help="Remove the manual verdict; the automatic status returns.")
@json_option
@pass_app
@handle_errors
def resolve(app: App, prediction_id: str, outcome: str | None, note: str, undo: bool,
            as_json: bool) -> None:
    """Give a prediction a manual verdict (right, wrong or void); it overrides the data."""
    from db import queries
    from tracker.service.evaluation import evaluate_all
    from tracker.textsafe import visible

    known_prediction(app, prediction_id)
    if undo == (outcome is not None):
        fail("give an outcome (right, wrong or void) or --undo", EXIT_USAGE)
    now = datetime.now(UTC)
    if undo:
        if not queries.remove_resolution(app.engine, prediction_id):
            fail(f"{prediction_id} has no manual verdict to undo", EXIT_USAGE)
    else:
        queries.set_resolution(app.engine, prediction_id, outcome, note, now)
    result = evaluate_all(app.engine, app.registry, now, app.settings)[prediction_id]
    if as_json:
        emit_json({"id": prediction_id, "manual": None if undo else {"outcome": outcome, "note": note},
                   "status": result.status.value, "probability": result.probability,
                   "explanation": result.explanation})
        return
    click.echo(f"{prediction_id}: {result.status.value}: {visible(result.explanation)}")


# ---- scoreboard ----------------------------------------------------------------------

def _print_scoreboard(rows: list[PersonScore], **_) -> None:
    from tracker.views.scoreboard import scoreboard_text

    print_text(scoreboard_text(rows, **terminal()))


@cli.command()
@listing(text=_print_scoreboard, as_data=lambda rows: [row.as_dict() for row in rows])
def scoreboard(app: App) -> list[PersonScore]:
    """Per person, best first by expected hit rate: verdicts by data and by hand, open and
    unpriced calls, and Brier scores beside the price on the day of the call."""
    from db import queries
    from tracker.quick import remember
    from tracker.scoreboard import score
    from tracker.service.made_on import made_on_prices

    latest = {pid: (snap.status, snap.probability, snap.model)
              for pid, snap in queries.latest_snapshots(app.engine).items()}
    rows = score(app.registry, latest, made_on_prices(app.engine, app.registry))
    remember("scoreboard", app.settings, app.registry)  # so the next `scoreboard` is quick
    return rows
