"""`tracker site build DIR`: every page, JSON answer and the feed of the web view as
static files, to publish anywhere. Each is asked of the app itself, in process, so a
file holds what the server answers; only its links change: each becomes relative to the
file that holds it (``p/ID/index.html`` links to ``../../who/NAME/index.html``), so the
folder works from any address, and opened from disk.

The site is built in a folder beside DIR and swapped in whole: a build that fails
leaves DIR as it was. DIR must be a previous build (it holds MARKER), empty, or new."""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from tracker.web.data import Source

MARKER = ".tracker-site"
ORIGIN = "http://site.invalid"  # the address the pages are asked for: never reached
STATIC = ("/static/style.css", "/static/icon.svg")
API = ("/api/status", "/api/scoreboard", "/api/series", "/api/health", "/api/calibration")
# An href or src the app wrote: a path on this server, or (in the feed) this origin's.
LINK = re.compile(r'(?P<attr>\b(?:href|src))="(?:' + re.escape(ORIGIN) + r')?(?P<path>/[^"]*)"')


class SiteError(Exception):
    """Why the site cannot be built into the folder given, as one line."""


class PageError(SiteError):
    """A page the site holds could not be rendered."""


def paths(source: Source) -> list[str]:
    """Every path the site holds, as the server spells it."""
    people = sorted({p.who for p in source.registry})
    ids = [p.id for p in source.registry]
    return ["/", "/series", "/calibration", "/feed.atom", *STATIC, *API,
            *(f"/who/{quote(who, safe='')}" for who in people),
            *(f"/p/{quote(pid, safe='')}" for pid in ids),
            *(f"/api/p/{quote(pid, safe='')}" for pid in ids)]


def file_of(path: str) -> str:
    """Where the answer to ``path`` is kept in the site: a page in its folder's
    index.html, a JSON answer in a .json file, the rest as named."""
    parts = [_segment(part) for part in path.strip("/").split("/") if part]
    if parts[:1] == ["api"]:
        return "/".join(parts) + ".json"
    if not parts or parts[0] in ("who", "p", "series", "calibration"):
        return "/".join([*parts, "index.html"])
    return "/".join(parts)


def _segment(part: str) -> str:
    """A path segment as a file name: decoded, unless that would not be one name."""
    name = unquote(part)
    if "/" in name or "\\" in name or "\0" in name or name.startswith("."):
        return quote(name, safe="").replace(".", "%2E")
    return name


def relative(link: str, page: str, files: dict[str, str]) -> str:
    """``link`` (a path on the server, maybe with a fragment) as the page at ``page`` (a
    site file) reaches its file; SiteError for one the site does not hold. ``files``: each
    server path, percent-decoded, to its site file."""
    path, mark, fragment = link.partition("#")
    target = files.get(unquote(path))
    if target is None:
        raise PageError(f"{page} links to {link}, which the site does not hold")
    steps = os.path.relpath(target, str(PurePosixPath(page).parent))
    return quote(PurePosixPath(steps).as_posix()) + mark + fragment


def relink(text: str, page: str, files: dict[str, str]) -> str:
    """``text`` with every link to the server made relative to ``page``."""
    def swap(match: re.Match) -> str:
        link = html.unescape(match["path"])
        return f'{match["attr"]}="{html.escape(relative(link, page, files))}"'

    return LINK.sub(swap, text)


def render(source: Source) -> dict[str, bytes]:
    """Each site file's content, by its path in the site."""
    from starlette.testclient import TestClient

    from tracker.web.app import create_app

    wanted = paths(source)
    files = {unquote(path): file_of(path) for path in wanted}
    out: dict[str, bytes] = {}
    with TestClient(create_app(source), base_url=ORIGIN) as client:
        for path in wanted:
            response = client.get(path)
            if response.status_code != 200:
                raise PageError(f"{path} answered {response.status_code}")
            name = file_of(path)
            if name.endswith((".html", ".atom")):
                out[name] = relink(response.text, name, files).encode("utf-8")
            else:
                out[name] = response.content
    out[MARKER] = b"A folder `tracker site build` wrote: the next build replaces it whole.\n"
    return out


def build(source: Source, folder: Path) -> int:
    """Write the site into ``folder``, replacing a previous build; the number of files."""
    folder = folder.absolute()
    _check_target(folder)
    content = render(source)
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    try:
        for name, data in content.items():
            target = fresh / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        fresh.chmod(0o755)
        _swap(fresh, folder)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return len(content)


def _check_target(folder: Path) -> None:
    if not folder.exists():
        return
    if not folder.is_dir():
        raise SiteError(f"{folder} is a file, not a folder")
    if (folder / MARKER).is_file() or not any(folder.iterdir()):
        return
    raise SiteError(f"{folder} holds other files: give an empty folder, a new one, "
                    "or one a site build wrote")


def _swap(fresh: Path, folder: Path) -> None:
    """Put ``fresh`` where ``folder`` is: the old one is moved aside first, and removed
    only once the new one is in place."""
    if not folder.exists():
        fresh.rename(folder)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
    old.rmdir()
    folder.rename(old)
    try:
        fresh.rename(folder)
    except BaseException:
        old.rename(folder)
        raise
    shutil.rmtree(old, ignore_errors=True)
