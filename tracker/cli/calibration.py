"""`tracker calibration`: how well the prices on the days of people's calls, and tracker's
own chances, matched what happened (tracker/service/calibration.py computes it)."""

from __future__ import annotations

from typing import Any

from tracker.calibration import KEY
from tracker.cli.app import App, cli
from tracker.cli.output import listing, print_text, terminal


def claims(n: int) -> str:
    return f"{n} resolved claim{'' if n == 1 else 's'}"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def calibration_text(report: dict[str, Any], colour: bool = False,
                     width: int | None = None) -> str:
    """The figures as tables, each saying how many resolved claims it rests on. Names are
    untrusted: made visible (tracker/textsafe.py)."""
    from tracker.textsafe import visible
    from tracker.views.table import render

    def table(columns, rows, right):
        return render(columns, rows, right=right, boxed=False, colour=colour, width=width,
                      header_style="bold underline", keep=(columns[0],))

    people = report["people"][-1]
    out = ["People: each person's resolved calls, scored at the price on the day of the call\n"]
    if not people["claims"]:
        out.append("No resolved call had a price on the day it was made yet.\n")
    else:
        rows = [[visible(row["who"]) if row["who"] else "Everyone", _score(row["brier"]),
                 _score(row["log_score"]), f"rests on {claims(row['claims'])}"]
                for row in report["people"]]
        out.append(table(("Who", "Brier", "Log score", "Rests on"), rows, ("Brier", "Log score")))
        out.append(f"\nReliability of everyone's calls (rests on {claims(people['claims'])})\n")
        out.append(_reliability(people["bins"], "Calls", table, days=False))
    models = report["models"][-1]
    out.append("\ntracker's own chances: every snapshot of a resolved claim, weighted by the\n"
               "days it held, by model\n")
    if not models["claims"]:
        out.append("No resolved claim had a chance from tracker before it resolved yet.\n")
    else:
        rows = [[row["model"] or "All", _score(row["brier"]), _score(row["log_score"]),
                 f"{row['weight']:.1f}", f"rests on {claims(row['claims'])}"]
                for row in report["models"]]
        out.append(table(("Model", "Brier", "Log score", "Days", "Rests on"), rows,
                         ("Brier", "Log score", "Days")))
        out.append(f"\nReliability of tracker's chances (rests on {claims(models['claims'])})\n")
        out.append(_reliability(models["bins"], "Snapshots", table, days=True))
    return "".join(out) + "\n" + KEY


def _reliability(bins: list[dict[str, Any]], counted: str, table, days: bool) -> str:
    columns = ("Chance", counted, *(("Days",) if days else ()), "Claims", "Mean chance",
               "Came true")
    rows = [[f"{100 * b['from']:.0f}-{100 * b['to']:.0f}%", str(b["forecasts"]),
             *((f"{b['weight']:.1f}",) if days else ()), str(b["claims"]),
             f"{100 * b['mean_forecast']:.0f}%", f"{100 * b['observed']:.0f}%"]
            for b in bins]
    return table(columns, rows, columns[1:])


def _print(report: dict[str, Any], **_) -> None:
    print_text(calibration_text(report, **terminal()))


@cli.command()
@listing(text=_print)
def calibration(app: App) -> dict[str, Any]:
    """Brier and log scores, with reliability tables: each person's resolved calls at the
    price on the day of the call, and tracker's own chances by model."""
    from tracker.service.calibration import calibration_report

    return calibration_report(app.engine, app.registry)
