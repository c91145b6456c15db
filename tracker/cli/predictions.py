"""The commands about predictions: `status` lists them, `show` tells one in full,
`resolve` gives one a verdict by hand, `scoreboard` ranks the people who made them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_USAGE, fail, handle_errors
from tracker.cli.output import listing, print_table, table
from tracker.formats import brier, n_of, number, percent, record, when

if TYPE_CHECKING:
    from rich.text import Text

    from tracker.registry.schema import PredictionBase
    from tracker.scoreboard import PersonScore


def known_prediction(app: App, prediction_id: str) -> PredictionBase:
    """The registry's prediction ``prediction_id``; bad usage when there is none."""
    prediction = app.registry.get(prediction_id)
    if prediction is None:
        fail(f"no prediction {prediction_id!r}: `tracker status` lists them", EXIT_USAGE)
    return prediction


# ---- status --------------------------------------------------------------------------

STATUS_STYLE = {
    "right": "bold green",
    "wrong": "bold red",
    "on_track": "green",
    "off_track": "yellow",
    "no_data": "dim",
    "open": "cyan",
    "void": "magenta",
}


def _print_status(rows: list[dict[str, Any]], **_) -> None:
    from tracker.textsafe import text

    shown = table(("Who", "Claim", "Status", "P", "Value", "As of"), right=("P", "Value"))
    for row in rows:  # Text, not markup: claims and market titles are untrusted
        shown.add_row(
            text(row["who"]),
            _claim_cell(row),
            text(row["status"], style=STATUS_STYLE.get(row["status"], "")),
            percent(row["probability"]),
            _value(row["value"], row["side"]),
            when(row["as_of"]),
        )
    print_table(shown)


def _claim_cell(row: dict[str, Any]) -> Text:
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


@cli.command()
@listing(text=_print_status)
def status(app: App) -> list[dict[str, Any]]:
    """Every prediction: who, claim, status, probability, value, as of."""
    from db import queries
    from tracker.quick import remember_status
    from tracker.views.status import status_rows, summaries

    rows = status_rows(summaries(app.registry), queries.latest_snapshots(app.engine))
    remember_status(app.settings, app.registry)  # so the next `status --json` is quick
    return rows


# ---- show ----------------------------------------------------------------------------

def _print_details(details: dict[str, Any], **_) -> None:
    from tracker.views.show import render

    click.echo("\n".join(render(details)))


@cli.command()
@click.argument("prediction_id", metavar="ID")
@listing(text=_print_details)
def show(app: App, prediction_id: str) -> dict[str, Any]:
    """One prediction in full: rule, inputs, status history and its odds drawn."""
    from tracker.views.show import gather_prediction

    return gather_prediction(app.engine, app.registry, known_prediction(app, prediction_id))


# ---- resolve -------------------------------------------------------------------------

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
    click.echo(f"{prediction_id}: {result.status.value}: {visible(result.explanation)}")


# ---- scoreboard ----------------------------------------------------------------------

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


def _print_scoreboard(rows: list[PersonScore], **_) -> None:
    from tracker.textsafe import text

    shown = table(SCOREBOARD_COLUMNS, right=SCOREBOARD_COLUMNS[1:], no_wrap=True,
                  header_style="bold underline", box=None, pad_edge=False, padding=(0, 1))
    for row in rows:
        shown.add_row(
            text(row.who), f"{percent(row.expected_hit_rate)} {n_of(row.rate_n)}",
            record(row.right_by_data, row.wrong_by_data),
            record(row.right_by_hand, row.wrong_by_hand),
            str(row.void), str(row.open), str(row.unpriced),
            f"{brier(row.brier, row.price_brier)} {n_of(len(row.briers))}",
        )
    print_table(shown)
    click.echo(SCOREBOARD_KEY)


@cli.command()
@listing(text=_print_scoreboard, as_data=lambda rows: [row.as_dict() for row in rows])
def scoreboard(app: App) -> list[PersonScore]:
    """Per person, best first by expected hit rate: verdicts by data and by hand, open and
    unpriced calls, and Brier scores beside the price on the day of the call."""
    from db import queries
    from tracker.scoreboard import score
    from tracker.service.made_on import made_on_prices

    latest = {pid: (snap.status, snap.probability, snap.model)
              for pid, snap in queries.latest_snapshots(app.engine).items()}
    return score(app.registry, latest, made_on_prices(app.engine, app.registry))
