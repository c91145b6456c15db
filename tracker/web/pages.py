"""The routes' handlers: each reads through ``Source`` (tracker/web/data.py) and renders
a template, or answers JSON as the command line's ``--json`` prints it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

from tracker.jsonout import dumps
from tracker.views.show import status_changes
from tracker.views.status import STATUSES, Selection, listed, statuses_of
from tracker.web.charts import NOT_ENOUGH, history_chart, hits_chart, input_charts
from tracker.web.templates import ENV

if TYPE_CHECKING:
    from starlette.requests import Request

    from tracker.web.data import Source


def _source(request: Request) -> Source:
    return request.app.state.source


def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    notice = _source(request).notice
    return HTMLResponse(ENV.get_template(template).render(notice=notice, **context))


def _json(data: Any) -> Response:
    """The same text as `--json` prints (tracker/jsonout.py), newline included."""
    return Response(dumps(data) + "\n", media_type="application/json")


# ---- pages ---------------------------------------------------------------------------

def scoreboard(request: Request) -> HTMLResponse:
    source = _source(request)
    board = source.scoreboard()
    hits = hits_chart(source.expected_hits(), [row.who for row in board])
    return _page(request, "scoreboard.html", board=board, hits=hits,
                 claims=source.status(), title="Scoreboard")


def person(request: Request) -> HTMLResponse:
    source = _source(request)
    who = source.person(request.path_params["name"])
    if who is None:
        raise HTTPException(404, "No one by that name has made a prediction here.")
    board = next((row for row in source.scoreboard() if row.who == who), None)
    rows = source.status(Selection(who=who))
    rows = [row for row in rows if row["who"] == who]  # not another whose name shares a word
    groups = [(status, [row for row in rows if row["status"] == status]) for status in STATUSES]
    return _page(request, "person.html", who=who, score=board,
                 groups=[g for g in groups if g[1]], title=who)


def prediction(request: Request) -> HTMLResponse:
    source = _source(request)
    details = source.prediction(request.path_params["prediction_id"])
    if details is None:
        raise HTTPException(404, "No prediction has that id.")
    price = source.made_on_prices().get(details["id"])
    inputs = input_charts(details, source.input_points(details),
                          source.registry.get(details["id"]))
    return _page(request, "prediction.html", d=details, made_on_price=price,
                 chart=history_chart(details, price), not_enough=NOT_ENOUGH,
                 input_charts=inputs,
                 changes=list(reversed(status_changes(details["history"]))),
                 title=details["claim"])


def series(request: Request) -> HTMLResponse:
    source = _source(request)
    return _page(request, "series.html", rows=source.series(), health=source.health(),
                 title="Series and sources")


def calibration(request: Request) -> HTMLResponse:
    from tracker.calibration import KEY
    from tracker.web.reliability import reliability_chart

    report = _source(request).calibration()
    people, models = report["people"], report["models"]
    return _page(request, "calibration.html", people=people, models=models,
                 key=KEY.replace("\n", " ").strip(),
                 people_chart=reliability_chart(people[-1]["bins"], "Reliability of everyone's calls"),
                 models_chart=reliability_chart(models[-1]["bins"], "Reliability of tracker's chances"),
                 title="Calibration")


# ---- the JSON API: what --json prints ------------------------------------------------

def api_status(request: Request) -> Response:
    """`tracker status --json`, with its filters as query parameters: who, status, kind
    (each repeatable or a comma list) and open."""
    query = request.query_params
    try:
        selection = Selection(query.get("who"), statuses_of(query.getlist("status")),
                              listed(query.getlist("kind")),
                              query.get("open", "").lower() in ("1", "true", "yes"))
        return _json(_source(request).status(selection))
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def api_scoreboard(request: Request) -> Response:
    return _json([row.as_dict() for row in _source(request).scoreboard()])


def api_prediction(request: Request) -> Response:
    details = _source(request).prediction(request.path_params["prediction_id"])
    if details is None:
        raise HTTPException(404, "no prediction has that id")
    return _json(details)


def api_series(request: Request) -> Response:
    return _json(_source(request).series())


def api_calibration(request: Request) -> Response:
    return _json(_source(request).calibration())


def api_health(request: Request) -> Response:
    return _json(_source(request).health())
