"""Each prediction's rule in words, for `tracker show`: what makes it right, and by when."""

from __future__ import annotations

from tracker.registry.labels import label


def _names(series_ids: list[str]) -> str:
    names = [label(sid) for sid in series_ids]
    return names[0] if len(names) == 1 else "an equal-weight basket of " + ", ".join(names)


def _number(value: float) -> str:
    return f"{value:,.6g}"


def describe_rule(p) -> str:
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
        return f"Right if the market {p.series} resolves {p.side.upper()}."
    if kind == "outperform":
        verb = "beats" if p.direction == "over" else "trails"
        return (f"Right if the return of {_names(p.members())} from {p.start} to {p.deadline} "
                f"{verb} that of {_names(p.benchmark_members())}.")
    if kind == "rank":
        rivals = ", ".join(label(s) for s in p.universe)
        return (f"Right if {label(p.series)} has the {p.position} return from {p.start} to "
                f"{p.deadline} among itself and {rivals}.")
    if kind == "level":
        side = ">=" if p.direction == "above" else "<="
        return f"Right if the value of {label(p.series)} released for {p.on} is {side} {_number(p.target)}."
    if kind == "estimate":
        low, high = p.bounds()
        return (f"Right if the value of {label(p.series)} released for {p.on} is between "
                f"{_number(low)} and {_number(high)}.")
    if kind == "filing":
        return (f"Right if EDGAR lists a registration statement of the filer {label(p.series)} "
                f"(S-1, F-1, an amendment, or a confidential draft once public) dated {window}; "
                "wrong if EDGAR, checked a few days after the deadline, lists none.")
    if kind == "manual":
        why = f" ({p.reason})" if p.reason else ""
        return f"Resolved by hand with `tracker resolve`{why}."
    count = {"all_of": "all", "any_of": "at least one"}.get(kind, f"at least {getattr(p, 'n', '?')}")
    return f"Right if {count} of these come true: {', '.join(p.of)}."
