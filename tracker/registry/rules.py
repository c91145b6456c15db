"""Each prediction's rule in words, for `tracker show`: what makes it right, and by when."""

from __future__ import annotations

from tracker.registry.labels import label


def _names(series_ids: list[str]) -> str:
    names = [label(sid) for sid in series_ids]
    return names[0] if len(names) == 1 else "an equal-weight basket of " + ", ".join(names)


def _number(value: float) -> str:
    """A level as people write it: '4,250', '0.75', '1,000,000' (never '1e+06')."""
    text = f"{value:,.6g}"
    if "e" in text:
        text = f"{value:,.0f}" if abs(value) >= 1 else f"{value:.10f}".rstrip("0").rstrip(".")
    return text


def _nowcast(p) -> str:
    if not p.nowcast:
        return ""
    return (f" Its first estimate decides; until then {label(p.levels)} and {label(p.nowcast)} "
            "give a probability.")


def _market(series_id: str, names: dict[str, str]) -> str:
    """The market's question and its id, or the id alone."""
    name = names.get(series_id)
    return f"{name} ({series_id})" if name and name != series_id else series_id


def describe_rule(p, names: dict[str, str] | None = None) -> str:
    """``names``: series id -> the name stored for it (a market's quoted question), when
    known; the id stands in otherwise."""
    window = f"between {p.start} and {p.deadline}"
    kind = p.kind
    if kind == "threshold":
        side = ">=" if p.direction == "above" else "<="
        if p.touch:
            wick = "a day's high" if p.direction == "above" else "a day's low"
            return (f"Right if {label(p.series)} touches {side} {_number(p.target)} {window} "
                    f"({wick} counts); wrong if it has not by the deadline.")
        return f"Right if {label(p.series)} closes {p.deadline} at {side} {_number(p.target)}."
    if kind == "race":
        return (f"Right if {label(p.series)} touches {_number(p.target)} before "
                f"{_number(p.against)} {window}; wrong if {_number(p.against)} comes first; "
                "void if neither by the deadline.")
    if kind == "market":
        return f"Right if the market {_market(p.series, names or {})} resolves {p.side.upper()}."
    if kind == "outperform":
        verb = "beats" if p.direction == "over" else "trails"
        return (f"Right if the return of {_names(p.members())} from {p.start} to {p.deadline} "
                f"{verb} that of {_names(p.benchmark_members())}.")
    if kind == "rank":
        rivals = ", ".join(label(s) for s in p.rivals())
        among = f"the {p.universe_name} universe: " if p.universe_name else ""
        return (f"Right if {_names(p.members())} has the {p.position} return from the close on "
                f"or before {p.start} to the close on or before {p.deadline}, against "
                f"{among}{rivals}. Returns are price returns, total returns (dividends and "
                "coupons reinvested) where a series says so.")
    if kind == "level":
        side = ">=" if p.direction == "above" else "<="
        return (f"Right if the value of {label(p.series)} released for {p.on} is {side} "
                f"{_number(p.target)}.{_nowcast(p)}")
    if kind == "estimate":
        low, high = p.bounds()
        return (f"Right if the value of {label(p.series)} released for {p.on} is between "
                f"{_number(low)} and {_number(high)}.{_nowcast(p)}")
    if kind == "filing":
        return (f"Right if EDGAR lists a registration statement of the filer {label(p.series)} "
                f"(S-1, F-1, an amendment, or a confidential draft once public) dated {window}; "
                "wrong if EDGAR, checked a few days after the deadline, lists none.")
    if kind == "manual":
        why = f" ({p.reason})" if p.reason else ""
        return f"Resolved by hand with `tracker resolve`{why}."
    count = {"all_of": "all", "any_of": "at least one"}.get(kind, f"at least {getattr(p, 'n', '?')}")
    return f"Right if {count} of these come true: {', '.join(p.of)}."
