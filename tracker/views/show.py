"""`tracker show ID`: everything about one prediction, gathered once, rendered as text or
JSON. The history chart draws the probability where the prediction has one, else the
headline value.

What it needs from the registry is plain data (``show_spec``), so the lean path
(tracker/quick/) can keep it and gather the same from the database through sqlite3
(``gather``, with db/reads.py's reads). Nothing here reads a whole history: each input
series gives its newest points and a count of the points in the evaluation's window; a
long snapshot history gives its status changes and what its chart draws, thinned in the
database (``_history``). Only the standard library at import: the full CLI's helpers are
imported by the functions that use them."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from db import reads
from tracker.chart import column_ends, draw
from tracker.formats import percent, timestamp
from tracker.freshness import RECENT, last_seen, stale_series
from tracker.textsafe import visible
from tracker.units import headline_unit, show, unit_of
from tracker.verdicts import SETTLED
from tracker.views.status import side_price
from tracker.views.table import terminal_width

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sqlalchemy import Engine

    from db.reads import Run, SeriesRow, SnapshotRow
    from tracker.registry import Registry
    from tracker.registry.schema import PredictionBase

CHART_WIDTH = 60
HISTORY_IN_FULL = 4 * CHART_WIDTH  # snapshots shown one by one; a longer history is thinned


def gather_prediction(engine: Engine, registry: Registry,
                      prediction: PredictionBase) -> dict[str, Any]:
    """What `show` tells of ``prediction``, read through SQLAlchemy (the full CLI)."""
    from db.queries import reading

    with reading(engine) as run:
        rows = reads.series_by_id(run, prediction.series_ids())
        spec = show_spec(registry, prediction, {sid: row.name for sid, row in rows.items()})
        return gather(run, spec, datetime.now(UTC), rows)


def show_spec(registry: Registry, prediction: PredictionBase,
              stored_names: Mapping[str, str | None]) -> dict[str, Any]:
    """What `show` needs of the registry, as plain data: the prediction's fields, its rule
    (which names its series by ``stored_names``, the names stored for them), each series'
    window and claimed side, and the parts of every composite it is built from."""
    from tracker.registry.labels import label
    from tracker.registry.rules import describe_rule
    from tracker.service.evaluation import needed_since

    ids = list(dict.fromkeys(prediction.series_ids()))
    since = needed_since([prediction])
    names = {sid: label(sid, stored_names.get(sid)) for sid in ids}
    return {
        "id": prediction.id, "who": prediction.who, "claim": prediction.claim,
        "kind": prediction.kind, "made_on": prediction.made_on.isoformat(),
        "start": prediction.start.isoformat(), "deadline": prediction.deadline.isoformat(),
        "rule": describe_rule(prediction, names), "notes": prediction.notes,
        "scored": prediction.scored, "part_of": registry.part_of.get(prediction.id, []),
        "side": getattr(prediction, "side", None), "parts": list(getattr(prediction, "of", [])),
        "series": [{"id": sid, "name": names[sid], "stored_name": stored_names.get(sid),
                    "since": since[sid].isoformat(), "side": claimed_side(prediction, sid)}
                   for sid in ids],
        "part_ids": _part_tree(registry, prediction),
    }


def _part_tree(registry: Registry, prediction: PredictionBase) -> dict[str, list[str]]:
    """The parts of ``prediction`` and of each part it is built from, recursively: the
    ids the registry holds only (a part it does not hold has none)."""
    tree, todo = {}, [prediction]
    while todo:
        current = todo.pop()
        if current.id in tree:
            continue
        tree[current.id] = list(current.part_ids())
        todo += [part for pid in tree[current.id] if (part := registry.get(pid)) is not None]
    return tree


def gather(run: Run, spec: dict[str, Any], now: datetime,
           rows: Mapping[str, SeriesRow]) -> dict[str, Any]:
    """What `show` tells: ``spec`` (``show_spec``) with what the database holds now.
    ``rows``: the prediction's stored series (``reads.series_by_id``)."""
    snapshots = reads.latest_snapshots(run)
    latest = snapshots.get(spec["id"])
    stored = reads.snapshot_span(run, spec["id"], "status")  # set on every one
    window = chart_window(spec, now, stored)
    verdicts = reads.resolutions(run)
    verdict = verdicts.get(spec["id"])
    fields = ("id", "who", "claim", "kind", "made_on", "start", "deadline", "rule", "notes",
              "scored", "part_of", "side")
    return {name: spec[name] for name in fields} | {
        "status": latest.status if latest else "no_data",
        "probability": latest.probability if latest else None,
        "value": latest.value if latest else None,
        "explanation": latest.explanation if latest else "not evaluated yet: run `tracker poll`",
        "model": latest.model if latest else None,
        "model_inputs": json.loads(latest.inputs) if latest and latest.inputs else {},
        "manual_verdict": {
            "outcome": verdict.outcome, "note": verdict.note, "resolved_at": verdict.resolved_at,
        } if verdict else None,
        "series": _inputs(run, spec["series"], rows, now),
        "parts": spec["parts"],
        "part_verdicts": part_verdicts(spec["part_ids"].get, spec["id"], snapshots, verdicts),
        "history": [
            {"at": s.at, "status": s.status, "probability": s.probability, "value": s.value,
             "explanation": s.explanation}
            for s in _history(run, spec["id"], latest, stored[0], window)
        ],
        "chart_window": {"from": window[0].isoformat(), "to": window[1].isoformat()},
    }


def chart_window(spec: dict[str, Any], now: datetime,
                 stored: tuple[int, datetime | None, datetime | None]) -> tuple[date, date]:
    """The days the chart covers: the claim's, from its made_on to its deadline (or to
    today when that comes first), stretched to every snapshot ``stored`` (count, first,
    last) so a verdict stored after the deadline still shows."""
    start = date.fromisoformat(spec["made_on"])
    end = min(date.fromisoformat(spec["deadline"]), now.astimezone(UTC).date())
    _, first, last = stored
    start = min(start, first.date()) if first else start
    end = max(end, last.date()) if last else end
    return start, max(start, end)


def window_span(window: tuple[date, date]) -> tuple[datetime, datetime]:
    """The chart's time span: from the first day's start to the last day's end (UTC)."""
    return (datetime.combine(window[0], time(), UTC),
            datetime.combine(window[1] + timedelta(days=1), time(), UTC))


def _inputs(run: Run, series: list[dict[str, Any]], rows: Mapping[str, SeriesRow],
            now: datetime) -> list[dict[str, Any]]:
    """Each series the prediction reads: its newest point in the evaluation's window, how
    many points that window holds (counted, not read), whether it is stale, its state."""
    ids = [s["id"] for s in series]
    since = {s["id"]: datetime.fromisoformat(s["since"]) for s in series}
    newest = reads.newest_points(run, ids, RECENT)
    stale = stale_series(newest, now, confirmed=reads.confirmations(run))
    counts = reads.count_points_between(run, {sid: (since[sid], None) for sid in ids})
    inputs = []
    for s in series:
        sid, row = s["id"], rows.get(s["id"])
        last = newest[sid][-1] if newest[sid] and newest[sid][-1].ts >= since[sid] else None
        inputs.append({
            "id": sid,
            "name": s["name"],
            "points": counts[sid],
            "last_value": last.value if last else None,
            # a market is stored only when it changes: its value was seen until its confirmation
            "last_at": last_seen(last.ts, row.confirmed_at if row else None) if last else None,
            "stale": stale[sid],
            "state": row.state if row else None,
            "side": s["side"],
            "unit": unit_of(sid, row.unit if row else None),
        })
    return inputs


def _history(run: Run, prediction_id: str, latest: SnapshotRow | None, total: int,
             window: tuple[date, date]) -> list[SnapshotRow]:
    """The prediction's ``total`` snapshots, oldest first: all of them when they are few
    (HISTORY_IN_FULL); else every status change, the ``latest``, and the snapshots its
    chart draws (``_chart``), thinned to the chart's columns over ``window``: it draws
    the same."""
    if latest is None:
        return []
    if total <= HISTORY_IN_FULL:
        return reads.snapshot_history(run, prediction_id)
    kept = {row.id: row for row in reads.status_changes(run, prediction_id)}
    kept[latest.id] = latest
    for column in ("probability", "value"):
        count, _, _ = reads.snapshot_span(run, prediction_id, column)
        if count >= 2:
            first, last = window_span(window)
            edges = [first, *column_ends(first, last, CHART_WIDTH)]
            thinned = reads.thinned_snapshots(run, [prediction_id], column, edges)
            kept |= {row.id: row for row in thinned[prediction_id]}
            break
    return sorted(kept.values(), key=lambda row: (row.at, row.id))


def claimed_side(prediction: PredictionBase, series_id: str) -> str | None:
    """The side of a market series this prediction claimed: a market's ``side``, a level's
    linked ``market_side``; None for any other series."""
    if prediction.kind == "market" and series_id == prediction.series:
        return prediction.side
    if getattr(prediction, "market", None) == series_id:
        return prediction.market_side
    return None


def part_verdicts(parts_of: Callable[[str], list[str] | None], prediction_id: str,
                  snapshots, verdicts, depth: int = 0) -> list[dict]:
    """Each part of a composite (and the parts of a part), with how its verdict came: from
    data, by hand (a manual verdict, whose snapshot model is "manual"), or still open.
    ``parts_of``: a prediction's part ids, None when the registry does not hold it."""
    rows = []
    for part_id in parts_of(prediction_id) or []:
        snap = snapshots.get(part_id)
        status = snap.status if snap else "no_data"
        by_hand = snap is not None and snap.model == "manual"
        verdict = verdicts.get(part_id) if by_hand else None
        rows.append({
            "id": part_id,
            "depth": depth,
            "status": status,
            "decided": "by hand" if by_hand else "from data" if status in SETTLED else "open",
            "note": verdict.note if verdict else "",
            "explanation": snap.explanation if snap else "not evaluated yet",
        })
        if not by_hand:
            rows += part_verdicts(parts_of, part_id, snapshots, verdicts, depth + 1)
    return rows


def _part_lines(rows: list[dict]) -> list[str]:
    lines = ["Parts (how each was settled):"]
    for row in rows:
        how = row["decided"] + (f": {row['note']}" if row["note"] else "")
        if row["decided"] != "by hand":
            how += f"; {row['explanation']}"
        lines.append(f"{'  ' * (row['depth'] + 1)}{row['id']}: {row['status']}, {how}")
    return lines


def status_changes(history: list[dict]) -> list[dict]:
    changes = []
    for snap in history:
        if not changes or changes[-1]["status"] != snap["status"]:
            changes.append(snap)
    return changes


def _chart(history: list[dict], window: tuple[datetime, datetime], kind: str,
           until: datetime | None = None) -> list[str]:
    """The probability (else the value) history over ``window``; the newest snapshot's
    drawn on to ``until``, when it has one."""
    until = min(until, window[1]) if until else None
    with_p = [(s["at"], s["probability"]) for s in history if s["probability"] is not None]
    held = until if history and history[-1]["probability"] is not None else None
    if _drawable(with_p, held):
        return ["Probability history:", *draw(with_p, CHART_WIDTH, 8, 0.0, 1.0, fmt=percent,
                                               until=held, span=window)]
    with_value = [(s["at"], s["value"]) for s in history if s["value"] is not None]
    held = until if history and history[-1]["value"] is not None else None
    if _drawable(with_value, held):
        unit = headline_unit(kind)
        fmt = {"fmt": lambda v: show(v, unit)} if unit else {}
        return ["Value history:",
                *draw(with_value, CHART_WIDTH, 8, until=held, span=window, **fmt)]
    return ["History: not enough snapshots to draw yet (one is stored per change)."]


def _drawable(points: list, until: datetime | None) -> bool:
    """Two snapshots, or one seen to hold until later: a line with a length."""
    return len(points) >= 2 or (len(points) == 1 and until is not None and until > points[0][0])


def held_until(d: dict[str, Any]) -> datetime | None:
    """Until when the newest snapshot is known to have held (a snapshot is stored only
    when something changed): to the end of the chart once settled; else until the
    newest value of its inputs was seen, each poll being followed by an evaluation
    that found nothing new to store; None without inputs."""
    if d["status"] in SETTLED:
        return datetime.max.replace(tzinfo=UTC)  # clipped to the chart's end
    seen = [s["last_at"] for s in d["series"] if s["last_at"]]
    return max(seen, default=None)


def last_shown(series: dict[str, Any]) -> str:
    """A series' newest value in its unit ('$58.10', '164,600'); a claimed market's as the
    price of the side claimed, named, with the yes price beside a "no": 'no 86% (yes 14%)'."""
    value, side = series["last_value"], series["side"]
    if side is None:
        return show(value, series["unit"])
    shown = f"{side} {percent(side_price(value, side))}"
    return shown if side == "yes" else f"{shown} (yes {percent(value)})"


def _headline(d: dict[str, Any]) -> str:
    """The headline value, where its kind gives it a unit of its own: '  value +5.2 pp'."""
    unit = headline_unit(d["kind"])
    return f"  value {show(d['value'], unit)}" if unit and d["value"] is not None else ""


def render(d: dict[str, Any], width: int | None = None) -> list[str]:
    """Plain lines of text, safe to print (tracker/textsafe.py), the prose wrapped to
    ``width`` columns (the terminal's by default); ids and the chart are never cut."""
    lines: list[tuple[str, str]] = [  # (text, the indent of its wrapped lines)
        (f"{d['id']}  {d['who']}, {d['made_on']} ({d['kind']})", "  "),
        (f"Claim: {d['claim']}", "  "),
        (f"Rule: {d['rule']}", "  "),
        (f"Status: {d['status']}  probability {percent(d['probability'])}" + _headline(d), "  "),
        (f"  {d['explanation']}", "  "),
    ]
    if d["notes"]:
        lines.append((f"Notes: {d['notes']}", "  "))
    if d["part_of"]:
        lines.append((f"Part of {', '.join(d['part_of'])}: not scored on its own.", "  "))
    elif not d["scored"]:
        lines.append(("Not scored on its own.", "  "))
    if d["manual_verdict"]:
        v = d["manual_verdict"]
        lines.append((f"Manual verdict: {v['outcome']} on {timestamp(v['resolved_at'])}"
                      + (f": {v['note']}" if v["note"] else "")
                      + " (`tracker resolve --undo` removes it)", "  "))
    if d["series"]:
        lines.append(("Inputs:", ""))
        for s in d["series"]:
            last = "no data" if s["last_value"] is None else f"{last_shown(s)} at {timestamp(s['last_at'])}"
            flags = [f"{s['points']} points"] + (["stale"] if s["stale"] else []) + (
                [f"market {s['state']}"] if s["state"] else [])
            lines.append((f"  {s['id']} ({s['name']}): {last}; {', '.join(flags)}", "    "))
    if d["part_verdicts"]:
        lines += [(line, "    ") for line in _part_lines(d["part_verdicts"])]
    if d["model"]:
        used = ", ".join(f"{k}={v}" for k, v in sorted(d["model_inputs"].items()))
        lines.append((f"Model: {d['model']}" + (f" ({used})" if used else ""), "  "))
    changes = status_changes(d["history"])
    if changes:
        lines.append(("Status history:", ""))
        for snap in changes:
            lines.append((f"  {timestamp(snap['at'])}  {snap['status']:<9} {snap['explanation']}",
                          " " * 4))
    window = window_span((date.fromisoformat(d["chart_window"]["from"]),
                          date.fromisoformat(d["chart_window"]["to"])))
    width = width or terminal_width()
    # Claims, notes, market questions and explanations are untrusted: each line prints
    # as itself, whatever control characters they carry (made visible before wrapping,
    # so that the escapes are counted).
    shown = [wrapped for text, indent in lines for wrapped in _wrap(visible(text), width, indent)]
    return shown + [visible(line) for line in _chart(d["history"], window, d["kind"], held_until(d))]


def _wrap(text: str, width: int, indent: str) -> list[str]:
    """``text`` in lines of at most ``width`` columns where it has spaces to break at
    (a long id or URL stays whole), the lines after the first indented by ``indent``."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)
