"""Add one prediction to a registry file (`tracker add`).

The prediction is validated as the loader validates it, refused when its id is taken,
and appended to the file as a new ``[[prediction]]`` table: the file is never read and
written back as data, so whatever it held (comments, order, layout) stays as it was. The
new content is parsed before it replaces the old, and replaces it in one step (a file
written beside it, then renamed over it), so no reader ever sees half a file and a file
that does not parse is never left behind.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tracker.configfile import read_limited
from tracker.registry.loader import (
    RegistryError,
    check_registry,
    configured_files,
    own_registry_file,
    parse_prediction,
    prediction_label,
    registry_files,
    same_file,
    tables_in_file,
)
from tracker.registry.schema import PredictionBase

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tracker.config import Settings

NEW_FILE_HEADER = (
    "# My predictions for tracker: one [[prediction]] table each.\n"
    "# `tracker check` validates this file; `tracker add` appends to it.\n"
)

# The order fields are written in: the common ones first, as a person reads a claim.
_FIRST = ("id", "who", "made_on", "claim", "kind")
_LAST = ("start", "deadline", "category", "notes", "scored")


# ---- TOML text ---------------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string. Every character that does not print as itself
    (control characters, bidirectional overrides, unusual spaces) is written as its
    escape, so the file shows nothing hidden; a lone surrogate, which no UTF-8 file can
    hold, is a ValueError."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError("not valid Unicode text")
        else:
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """A value of a prediction's field as TOML: text, a boolean, a number, a date, or a
    list of those."""
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return repr(value)  # the shortest text that reads back as the same float
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def prediction_table(fields: dict[str, Any]) -> str:
    """``fields`` as a ``[[prediction]]`` table, the common fields first, None left out."""
    given = {name: value for name, value in fields.items() if value is not None}
    order = [*(n for n in _FIRST if n in given),
             *(n for n in given if n not in _FIRST and n not in _LAST),
             *(n for n in _LAST if n in given)]
    lines = ["[[prediction]]"]
    for name in order:
        try:
            lines.append(f"{name} = {toml_value(given[name])}")
        except ValueError as exc:
            raise RegistryError([f"{name}: {exc}"]) from None
    return "\n".join(lines) + "\n"


def refuse(problem: str) -> NoReturn:
    raise RegistryError([problem])


# ---- which file ----------------------------------------------------------------------------

def target_file(settings: Settings, explicit: str | os.PathLike | None = None) -> Path:
    """Where a new prediction goes: ``explicit``, else the first ``[registry] files``
    entry, else the user's own file beside the config (``own_registry_file``)."""
    if explicit:
        return Path(explicit)
    configured = configured_files(settings)
    return configured[0] if configured else own_registry_file(settings)


# ---- adding ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Added:
    prediction: PredictionBase
    path: Path
    text: str  # the table as written
    created: bool  # the file did not exist before
    read_by_registry: bool  # the registry reads this file (else: list it in the config)


def add_prediction(settings: Settings, fields: dict[str, Any], path: Path) -> Added:
    """Validate ``fields`` as one prediction and append it to ``path``. Raises
    RegistryError (one line each) when the prediction, or the registry it joins, is not
    valid, and OSError when the file cannot be written."""
    registry, problems = check_registry(_without_missing(settings, path))
    if problems:
        refuse(f"{problems[0]} (fix the registry first: `tracker check` lists every problem)")
    prediction = validated(fields, registry.universes)
    if registry.get(prediction.id) is not None:
        refuse(f"id: {prediction.id!r} is taken: the registry has a prediction of that id")
    text = prediction_table(fields)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        old = _current(path)
        ids = _ids_in(path, old)
        if prediction.id in ids:
            refuse(f"id: {prediction.id!r} is taken: {path} has a prediction of that id")
        unknown = [pid for pid in prediction.part_ids()
                   if registry.get(pid) is None and pid not in ids]
        if unknown:
            refuse(f"of: unknown prediction {unknown[0]!r}")
        new = _appended(old, text)
        _verify(path, old, new, prediction, registry.universes)
        _replace(path, new)
    read = any(same_file(path, known) for known in registry_files(settings))
    return Added(prediction, path, text, old is None, read)


def validated(fields: dict[str, Any], universes: dict | None = None) -> PredictionBase:
    """``fields`` as a prediction, validated as the loader does; each problem says the
    field and what is wrong ("target: Input should be a finite number")."""
    try:
        return parse_prediction(fields, "new", 1, universes)
    except RegistryError as exc:
        prefix = f"new: {prediction_label(fields, 1)}: "
        raise RegistryError([problem.removeprefix(prefix) for problem in exc.problems]) from None


def _without_missing(settings: Settings, path: Path) -> Settings:
    """The settings whose registry leaves out ``path`` while it does not exist: a file
    the config lists before anything was written to it is about to be created."""
    if path.exists():
        return settings
    kept = [name for name, file in zip(settings.registry.files, configured_files(settings))
            if not same_file(file, path)]
    registry = settings.registry.model_copy(update={"files": kept})
    return settings.model_copy(update={"registry": registry})


def _current(path: Path) -> bytes | None:
    """The file's bytes; None when there is none yet."""
    try:
        return read_limited(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a folder, a device, a file too large or not ours to read
        refuse(f"{path}: cannot read: {exc.strerror or exc}")


def _parsed(path: Path, data: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RegistryError([f"{path}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError([f"{path}: invalid TOML: {exc}"]) from None


def _tables(path: Path, data: bytes | None) -> list[Any]:
    return [] if data is None else tables_in_file(path, _parsed(path, data))


def _ids_in(path: Path, data: bytes | None) -> set[str]:
    return {t["id"] for t in _tables(path, data) if isinstance(t, dict)
            and isinstance(t.get("id"), str)}


def _appended(old: bytes | None, text: str) -> bytes:
    """The file's bytes as they were, then a blank line and the new table."""
    if old is None:
        return (NEW_FILE_HEADER + "\n" + text).encode("utf-8")
    ending = b"" if old.endswith(b"\n") or not old else b"\n"
    gap = b"\n" if old.strip() else b""
    return old + ending + gap + text.encode("utf-8")


def _verify(path: Path, old: bytes | None, new: bytes, prediction: PredictionBase,
            universes: dict) -> None:
    """The new bytes hold what the file held and one more table, which reads back as
    ``prediction``: else nothing is written."""
    before = _tables(path, old)
    try:
        after = _tables(path, new)
    except RegistryError as exc:  # a file whose [[prediction]] tables cannot be extended
        refuse(f"{exc}, with the new table after what the file holds: the file was left as "
               "it was")
    if after[:-1] != before or len(after) != len(before) + 1:
        refuse(f"{path}: the new table would not read back as one more [[prediction]]: "
               "the file was left as it was")
    if parse_prediction(after[-1], str(path), len(after), universes) != prediction:
        refuse(f"{path}: the new table would not read back as written: the file was left "
               "as it was")


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One `tracker add` at a time in ``folder``: two at once would each append to the
    file as it was, and the second rename would lose the first's table."""
    try:
        import fcntl
    except ImportError:  # no advisory locks here: adds are rarely concurrent
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` beside the file, then rename it over the file: a reader sees the old
    content or the new, never a part. A link is followed, so it stays a link."""
    real = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(os.stat(real).st_mode)
    except FileNotFoundError:
        mode = None  # a new file: the umask decides, as for any file the user creates
    partial = real.with_name(f".{real.name}.{os.getpid()}.tmp")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(partial, mode)
        os.replace(partial, real)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync_folder(real.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["Added", "add_prediction", "prediction_table", "target_file", "toml_string",
           "toml_value", "validated"]
