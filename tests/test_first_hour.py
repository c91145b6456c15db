"""A newcomer's first hour, as they live it: install tracker from a clone into a virtualenv
of their own, look at the demo, add a prediction, check it, point the sources somewhere
(here a loopback server replaying recorded responses), poll, and read the result.

Everything runs the installed `tracker` (a real, non-editable install: the bundled
registry, the migrations, the demo's recorded histories and the templates must ship in
the package) in a fresh home, from an empty folder, 80 columns wide and not on a
terminal, with no TRACKER_* variable. The commands start real interpreters: this is a
test of how tracker is installed and started.

The session is written out as a transcript (each command as typed, what it printed and
its exit code) in the test's folder, and also to $TRACKER_TRANSCRIPT when that is set.
Paths in it are shortened: ~ stands for the fresh home.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import YAHOO_CHART, serve_registry
from tracker.config import SourcesConfig, settings_from_dict
from tracker.registry import load_registry

REPO = Path(__file__).resolve().parent.parent
COLUMNS = 80
TIMEOUT = 180  # seconds for one command; the slowest (building the demo) takes a few

# The user's own claim, on a series the replay server answers with that series' own
# recorded bars (BATS.L, 28 August to 25 September 2026, high 4262p on 14 September).
MINE = "me-bat-4250"
ADD = [
    "add", "--id", MINE, "--who", "Me", "--kind", "threshold",
    "--claim", "British American Tobacco trades at 4,250p or more in 2026.",
    "--series", f"yahoo:{YAHOO_CHART[0]}", "--target", "4250", "--direction", "above",
    "--made-on", "2026-09-01", "--deadline", "2026-12-31",
]

# A clone holds no virtualenv, build output, caches or databases.
NOT_IN_A_CLONE_TOP = {".git", ".venv", "build", "dist", "data", ".pytest_cache",
                      ".import_linter_cache"}
NOT_IN_A_CLONE = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.db", "*.db-wal", "*.db-shm")


def not_in_a_clone(folder: str, names: list[str]) -> set[str]:
    top = NOT_IN_A_CLONE_TOP if Path(folder) == REPO else set()
    return NOT_IN_A_CLONE(folder, names) | (top & set(names))


@dataclass
class Ran:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


class Shell:
    """The user's shell: a fresh home, an empty working folder, a transcript of it all."""

    def __init__(self, root: Path, transcript: list[Path]):
        self.home = root / "home"
        self.cwd = self.home / "work"
        self.cwd.mkdir(parents=True)
        self.venv = self.home / "venv"
        self.config_dir = self.home / ".config" / "tracker"
        self.data_dir = self.home / ".local" / "share" / "tracker"
        self.env = {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "PATH": os.pathsep.join([str(self.venv / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "COLUMNS": str(COLUMNS),
        }
        self.transcript = transcript
        self.lines = [f"# tracker: a newcomer's first hour (~ is {self.home})", ""]
        self._write()

    def shown(self, text: str) -> str:
        return text.replace(str(self.home), "~")

    def note(self, *lines: str) -> None:
        self.lines += [f"# {line}" for line in lines] + [""]
        self._write()

    def run(self, args: list[str], typed: list[str] | None = None, cwd: Path | None = None) -> Ran:
        """Run ``args`` as the user would (no terminal), recorded as ``typed``."""
        done = subprocess.run(
            args, check=False, cwd=cwd or self.cwd, env=self.env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT,
        )
        self.lines.append("$ " + self.shown(shlex.join(typed or args)))
        if done.stdout:
            self.lines += self.shown(done.stdout).rstrip("\n").split("\n")
        if done.stderr:
            self.lines.append("[stderr]")
            self.lines += self.shown(done.stderr).rstrip("\n").split("\n")
        self.lines += [f"[exit {done.returncode}]", ""]
        self._write()
        return Ran(list(args), done.returncode, done.stdout, done.stderr)

    def tracker(self, *args: str) -> Ran:
        """The installed `tracker`, as found on the user's PATH."""
        return self.run([str(self.venv / "bin" / "tracker"), *args], typed=["tracker", *args])

    def write(self, path: Path, text: str) -> None:
        """A file the user writes with an editor."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.lines += [f"$ cat > {self.shown(str(path))} <<'EOF'", *text.rstrip("\n").split("\n"),
                       "EOF", ""]
        self._write()

    def _write(self) -> None:
        for path in self.transcript:
            path.write_text("\n".join(self.lines) + "\n")


def dependencies_folder(root: Path) -> Path:
    """A folder holding what this test environment has installed, but tracker: it stands in
    for the package index, which a test may not reach."""
    folder = root / "installed-dependencies"
    folder.mkdir()
    sites = {Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    for site in sites:
        for entry in site.iterdir():
            name = entry.name
            if (name.startswith(("prediction_tracker", "__editable__"))
                    or name.endswith(".pth") or name in {"tracker", "db", "jobs"}
                    or (folder / name).exists()):
                continue
            (folder / name).symlink_to(entry)
    return folder


def can_build_offline() -> str | None:
    """Why this environment cannot build tracker's wheel without the package index."""
    try:
        from setuptools.command import bdist_wheel  # noqa: F401 -- setuptools 70.1 or newer
    except ImportError:
        return ("the test environment's setuptools cannot build a wheel "
                "(reinstall the test extra: pip install -e '.[test]')")
    return None


def shipped_data(site: Path) -> list[str]:
    """Every package data file pyproject.toml declares that is missing from the install."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())
    missing = []
    for package, patterns in declared["tool"]["setuptools"]["package-data"].items():
        folder = Path(*package.split("."))
        for pattern in patterns:
            for path in (REPO / folder).glob(pattern):
                if path.is_file() and not (site / folder / path.relative_to(REPO / folder)).is_file():
                    missing.append(str(folder / path.relative_to(REPO / folder)))
    return missing


def user_config(url: str) -> str:
    """The config a user writes to point every source at ``url``."""
    lines = []
    for section, field in SourcesConfig.model_fields.items():
        urls = [name for name in field.annotation.model_fields if name.endswith("_url")]
        lines.append(f"[sources.{section}]")
        lines += [f'{name} = "{url}"' for name in urls]
        if section == "edgar":
            lines.append('user_agent = "Me me@example.com"')
        lines.append("")
    return "\n".join(lines)


@pytest.mark.long
def test_first_hour(tmp_path):
    problem = can_build_offline()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    transcript = [tmp_path / "first-hour.txt"]
    if os.environ.get("TRACKER_TRANSCRIPT"):
        transcript.append(Path(os.environ["TRACKER_TRANSCRIPT"]))
    sh = Shell(tmp_path, transcript)
    failed = f"(transcript: {transcript[0]})"
    bundled = load_registry(settings_from_dict({}))
    database = sh.data_dir / "tracker.db"

    # Install: a clone, a virtualenv, `pip install` of the clone (no editable install).
    clone = sh.home / "prediction-tracker"
    shutil.copytree(REPO, clone, ignore=not_in_a_clone, symlinks=True)
    sh.note("a clone of the repository is in ~/prediction-tracker")
    made = sh.run([sys.executable, "-m", "venv", "--without-pip", str(sh.venv)],
                  typed=["python3", "-m", "venv", "--without-pip", str(sh.venv)], cwd=sh.home)
    assert made.returncode == 0, failed
    site = Path(subprocess.check_output(
        [sh.venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True, env=sh.env).strip())
    (site / "installed-dependencies.pth").write_text(f"{dependencies_folder(tmp_path)}\n")
    sh.note("no package index here: the dependencies (and pip, setuptools) are already",
            "installed in the virtualenv, as a .pth file naming them in its site-packages")
    pip = [str(sh.venv / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir",
           "--no-deps", "--no-index", "--no-build-isolation", str(clone)]
    installed = sh.run(pip, typed=[str(sh.venv / "bin" / "python"), *pip[1:]], cwd=sh.home)
    assert installed.returncode == 0, failed
    assert (sh.venv / "bin" / "tracker").is_file(), failed
    assert shipped_data(site) == [], failed
    where = subprocess.check_output(
        [sh.venv / "bin" / "python", "-c", "import tracker; print(tracker.__file__)"],
        text=True, env=sh.env, cwd=sh.cwd).strip()
    assert Path(where).is_relative_to(site), where  # the installed copy, not the clone

    # `--help` says where the config and the data live.
    helped = sh.tracker("--help")
    assert helped.returncode == 0, failed
    assert str(sh.config_dir / "config.toml") in helped.stdout, failed
    assert str(database) in helped.stdout, failed

    # Before anything: one clear line, an exit of 2, and no database made anywhere.
    nothing = sh.tracker("status")
    assert nothing.returncode == 2, failed
    assert nothing.stdout == "", failed
    (line,) = nothing.stderr.splitlines()
    assert line.startswith("tracker: no database at ") and str(database) in line, failed
    assert "tracker poll" in line and "tracker demo" in line, failed
    assert not database.exists() and list(sh.cwd.iterdir()) == [], failed

    # The demo: a database of its own, read under a banner, every line fits 80 columns and
    # every id is whole.
    demo = sh.tracker("demo")
    assert demo.returncode == 0, failed
    assert (sh.data_dir / "demo.db").is_file() and not database.exists(), failed
    demo_status = sh.tracker("--demo", "status")
    assert demo_status.returncode == 0, failed
    assert demo_status.stderr.startswith("DEMO DATA"), failed
    # Wrapped to the width; only a path longer than a line (the test's home) is not cut.
    assert [row for row in demo_status.stderr.splitlines()
            if len(row) > COLUMNS and " " in row] == [], failed
    assert "DEMO" not in demo_status.stdout, failed
    rows = demo_status.stdout.splitlines()
    assert [row for row in rows if len(row) > COLUMNS] == [], failed
    first_words = {row.split()[0] for row in rows if row.strip()}
    assert {p.id for p in bundled} <= first_words, failed
    assert not database.exists(), failed

    # The user's own prediction goes to their registry file, which `check` then reads.
    added = sh.tracker(*ADD)
    assert added.returncode == 0, failed
    mine = sh.config_dir / "predictions.toml"
    assert f'id = "{MINE}"' in mine.read_text(), failed
    assert str(mine) in added.stdout, failed
    checked = sh.tracker("check")
    assert checked.returncode == 0, failed
    series = {*bundled.series_ids(), f"yahoo:{YAHOO_CHART[0]}"}
    assert checked.stdout.startswith(
        f"ok: {len(bundled.predictions) + 1} predictions reading {len(series)} series\n"), failed
    assert str(mine) in checked.stdout and str(database) in checked.stdout, failed

    # A poll, with the sources pointed at recorded responses: every bundled series gets a
    # recorded payload of its source, and the user's series its own recorded bars.
    with ReplayServer() as server:
        serve_registry(server, bundled)
        server.add(f"/v8/finance/chart/{YAHOO_CHART[0]}", Reply.file(YAHOO_CHART[1]))
        sh.note("a loopback server replays recorded responses: BATS.L gets its own bars; every",
                "other series a recorded payload of its source, not that series' own numbers")
        sh.write(sh.config_dir / "config.toml", user_config(server.url))
        polled = sh.tracker("poll")
    assert polled.returncode == 0, failed
    assert any(row.startswith("yahoo: ok") for row in polled.stdout.splitlines()), failed
    assert database.is_file(), failed

    # The user's claim: decided by the recorded bars, shown with its data.
    shown = sh.tracker("show", MINE)
    assert shown.returncode == 0, failed
    assert "right" in shown.stdout and f"yahoo:{YAHOO_CHART[0]}" in shown.stdout, failed
    assert "4,262" in shown.stdout, failed  # the day's high that touched the target
    assert "British American Tobacco p.l.c." in shown.stdout, failed  # the series' name
    assert [row for row in shown.stdout.splitlines() if len(row) > COLUMNS] == [], failed

    theirs = sh.tracker("status", "--who", "Me")
    assert theirs.returncode == 0, failed
    (row,) = [row for row in theirs.stdout.splitlines() if row.startswith(MINE)]
    assert row.split()[:2] == [MINE, "right"], failed
    assert [row for row in theirs.stdout.splitlines() if len(row) > COLUMNS] == [], failed
