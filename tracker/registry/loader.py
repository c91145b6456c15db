"""Load predictions from the bundled registry, registry files and the config.

The registry files are the ``[registry] files`` entries and, whenever it exists, the
user's own file: ``predictions.toml`` in the folder of the config file in use, or in the
user config folder when there is no config file (where `tracker add` writes by default).

Every problem is reported as one line naming the file, the prediction and the field.
``load_registry`` raises on the first problem; ``check_registry`` collects them all.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from tracker.configfile import UnreadableFile, read_limited
from tracker.registry.schema import KINDS, PredictionBase, SeriesId

if TYPE_CHECKING:
    from tracker.config import Settings

# A universe declared in a registry file: its name, and each member's label and series.
Universes = dict[str, dict[str, str]]

BUNDLED = "all_in_2026.toml"


class RegistryError(Exception):
    """One or more invalid predictions; ``problems`` holds one line each."""

    def __init__(self, problems: list[str]):
        super().__init__(problems[0] if len(problems) == 1 else f"{problems[0]} (and more)")
        self.problems = problems


@dataclass(frozen=True)
class Registry:
    predictions: tuple[PredictionBase, ...]
    universes: Universes = field(default_factory=dict)

    def __iter__(self):
        return iter(self.predictions)

    def __len__(self) -> int:
        return len(self.predictions)

    def get(self, prediction_id: str) -> PredictionBase | None:
        return next((p for p in self.predictions if p.id == prediction_id), None)

    def series_ids(self) -> list[str]:
        return sorted({sid for p in self.predictions for sid in p.series_ids()})

    @cached_property
    def part_of(self) -> dict[str, list[str]]:
        """Each unscored prediction that is a part of a composite -> those composites' ids:
        it is shown as a part of them, since it is no claim of its own."""
        unscored = {p.id for p in self.predictions if not p.scored}
        found: dict[str, list[str]] = {}
        for composite in self.predictions:
            for pid in composite.part_ids():
                if pid in unscored:
                    found.setdefault(pid, []).append(composite.id)
        return found


def _field_error(origin: str, label: str, error: dict[str, Any]) -> str:
    # A key may hold a newline or other control character: repr keeps the problem one line.
    loc = [str(part) if str(part).isprintable() else repr(part) for part in error["loc"]]
    field = ".".join(loc) if loc else "(prediction)"
    if error["type"] == "extra_forbidden":
        return f"{origin}: {label}: {field}: unknown field"
    if error["type"] == "missing":
        return f"{origin}: {label}: {field}: missing"
    message = error["ctx"]["error"] if error["type"] == "value_error" else error["msg"]
    return f"{origin}: {label}: {field}: {message}"


def prediction_label(table: Any, index: int) -> str:
    """How a problem names the prediction: by its id when it has one."""
    if isinstance(table, dict) and isinstance(table.get("id"), str):
        return f"prediction {table['id']!r}"
    return f"prediction #{index}"


def parse_prediction(
    table: Any, origin: str, index: int, universes: Universes | None = None
) -> PredictionBase:
    """Validate one [[prediction]] table; raise RegistryError naming what is wrong.
    ``universes``: the declared universes a ``rank`` may name."""
    label = prediction_label(table, index)
    if not isinstance(table, dict):
        raise RegistryError([f"{origin}: {label}: expected a table"])
    kind = table.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:  # a list or table is unhashable
        known = ", ".join(sorted(KINDS))
        what = "missing" if kind is None else f"unknown kind {kind!r}"
        raise RegistryError([f"{origin}: {label}: kind: {what} (known: {known})"])
    try:
        return KINDS[kind].model_validate(table, context={"universes": universes or {}})
    except ValidationError as exc:
        raise RegistryError([_field_error(origin, label, e) for e in exc.errors()]) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_limited(path).decode("utf-8"))
    except FileNotFoundError:
        raise RegistryError([f"{path}: no such registry file"]) from None
    except (UnicodeDecodeError, UnreadableFile) as exc:
        raise RegistryError([f"{path}: cannot read: {exc}"]) from None
    except OSError as exc:
        raise RegistryError([f"{path}: cannot read: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError([f"{path}: invalid TOML: {exc}"]) from None


def tables_in_file(path: Path, data: dict[str, Any] | None = None) -> list[Any]:
    data = _read_toml(path) if data is None else data
    unknown = sorted(set(data) - {"prediction", "universe"})
    if unknown:
        key = unknown[0] if unknown[0].isprintable() else repr(unknown[0])  # one line
        raise RegistryError([f"{path}: {key}: unknown key (expected [[prediction]] or [universe.NAME])"])
    tables = data.get("prediction", [])
    if not isinstance(tables, list):
        raise RegistryError([f"{path}: prediction: expected [[prediction]] tables"])
    return tables


_SERIES_ID = TypeAdapter(SeriesId)


def _universes_from(origin: str, data: dict[str, Any]) -> Universes:
    """``[universe.NAME]`` tables: each member's label = its series id."""
    declared = data.get("universe", {})
    if not isinstance(declared, dict):
        raise RegistryError([f"{origin}: universe: expected [universe.NAME] tables"])
    universes: Universes = {}
    for name, members in declared.items():
        where = f"{origin}: universe {name!r}"
        if not isinstance(members, dict) or len(members) < 2:
            raise RegistryError([f"{where}: expected a table of at least two 'label = \"series\"'"])
        for label, series_id in members.items():
            try:
                _SERIES_ID.validate_python(series_id, strict=True)
            except ValidationError as exc:
                error = exc.errors()[0]
                message = error["ctx"]["error"] if error["type"] == "value_error" else error["msg"]
                raise RegistryError([f"{where}: {label!r}: {message}"]) from None
        universes[name] = dict(members)
    return universes


# The user's own registry file, beside the config in use (or in the user's config folder
# without one): read whenever it exists, and where `tracker add` writes by default.
OWN_FILE = "predictions.toml"


def own_registry_file(settings: Settings) -> Path:
    """``predictions.toml`` in the config file's folder, else in the user config folder."""
    from tracker.configfile import user_config_dir

    folder = settings.path.parent if settings.path else user_config_dir()
    return folder / OWN_FILE


def registry_files(settings: Settings) -> list[Path]:
    """The files the registry is read from besides the config: the bundled registry when
    enabled, then each ``[registry] files`` entry (relative to the config's folder), then
    the user's own file (``own_registry_file``) unless listed already. That last one is
    listed whether or not it exists (it is read only when it does), so whoever watches
    these files sees it appear."""
    files = []
    if settings.registry.bundled:
        files.append(Path(str(resources.files("tracker.registry").joinpath("data", BUNDLED))))
    files.extend(configured_files(settings))
    own = own_registry_file(settings)
    if not any(same_file(own, path) for path in files):
        files.append(own)
    return files


def configured_files(settings: Settings) -> list[Path]:
    """The ``[registry] files`` entries, each relative to the config's folder."""
    base = settings.path.parent if settings.path else Path.cwd()
    return [Path(name) if Path(name).is_absolute() else base / name
            for name in settings.registry.files]


def same_file(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _sources(settings: Settings) -> tuple[list[tuple[str, list[Any]]], Universes]:
    """(origin, tables) for the bundled registry, each registry file, and the config;
    and the universes they declare."""
    found: list[tuple[str, list[Any]]] = []
    universes: Universes = {}
    files = registry_files(settings)
    origins = [f"bundled {BUNDLED}" if settings.registry.bundled and i == 0 else str(path)
               for i, path in enumerate(files)]
    own = own_registry_file(settings)
    for origin, path in zip(origins, files):
        if path == own and not os.path.lexists(path):  # the user has not written one (yet)
            continue
        data = _read_toml(path)
        found.append((origin, tables_in_file(path, data)))
        for name, members in _universes_from(origin, data).items():
            if name in universes:
                raise RegistryError([f"{origin}: universe {name!r}: already declared"])
            universes[name] = members
    if settings.prediction:
        found.append((str(settings.path or "config"), list(settings.prediction)))
    return found, universes


def check_registry(settings: Settings) -> tuple[Registry, list[str]]:
    """Load what is valid and list every problem (for ``tracker check``)."""
    predictions: list[PredictionBase] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    try:
        sources, universes = _sources(settings)
    except RegistryError as exc:
        return Registry(()), exc.problems
    for origin, tables in sources:
        for index, table in enumerate(tables, start=1):
            try:
                prediction = parse_prediction(table, origin, index, universes)
            except RegistryError as exc:
                problems.extend(exc.problems)
                continue
            if prediction.id in seen:
                problems.append(
                    f"{origin}: prediction {prediction.id!r}: id: already defined in {seen[prediction.id]}"
                )
                continue
            seen[prediction.id] = origin
            predictions.append(prediction)
    problems.extend(_part_problems(predictions, seen))
    try:
        ordered = order_by_parts(predictions)
    except CycleError:  # reported above, or once the missing parts are fixed
        ordered = predictions
    return Registry(tuple(ordered), universes), problems


def _part_problems(predictions: list[PredictionBase], origins: dict[str, str]) -> list[str]:
    """Composites must name existing predictions and must not contain themselves."""
    problems = []
    known = {p.id for p in predictions}
    for prediction in predictions:
        missing = [pid for pid in prediction.part_ids() if pid not in known]
        if missing:
            problems.append(
                f"{origins[prediction.id]}: prediction {prediction.id!r}: of: "
                f"unknown prediction {missing[0]!r}"
            )
    if not problems:
        try:
            order_by_parts(predictions)
        except CycleError as exc:
            problems.append(f"{origins[exc.prediction_id]}: {exc}")
    return problems


class CycleError(ValueError):
    """Composites that contain each other, directly or not."""

    def __init__(self, prediction_id: str):
        super().__init__(f"prediction {prediction_id!r}: of: composites form a cycle")
        self.prediction_id = prediction_id


def order_by_parts(predictions: list[PredictionBase]) -> list[PredictionBase]:
    """Every composite after its parts, otherwise in the order given."""
    by_id = {p.id: p for p in predictions}
    ordered: list[PredictionBase] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(prediction: PredictionBase) -> None:
        if prediction.id in placed:
            return
        if prediction.id in visiting:
            raise CycleError(prediction.id)
        visiting.add(prediction.id)
        for pid in prediction.part_ids():
            if pid in by_id:
                place(by_id[pid])
        visiting.discard(prediction.id)
        placed.add(prediction.id)
        ordered.append(prediction)

    for prediction in predictions:
        place(prediction)
    return ordered


def load_registry(settings: Settings) -> Registry:
    registry, problems = check_registry(settings)
    if problems:
        raise RegistryError(problems)
    return registry
