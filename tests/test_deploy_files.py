"""The deployment files (deploy/tracker.service, Dockerfile, .dockerignore, compose.yaml,
requirements.lock) say what the daemon needs: `tracker ... run`, SIGTERM with time to
finish a poll, SIGHUP to reload, a non-root user, a database in the service's state
directory or one that points at the database service, and an image built from the
locked versions on the Python the tests run on.

Nothing here starts systemd or Docker; the files are parsed and their meaning checked.
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy.engine import make_url

from jobs.scheduler import STOP_GRACE  # the daemon's wait for its running poll after SIGTERM
from tracker.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "tracker.service"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
LOCK = ROOT / "requirements.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def default_database(monkeypatch, state_directory: str) -> str | None:
    """The SQLite file the shipped config.toml gives a process with $STATE_DIRECTORY set,
    as systemd sets it for StateDirectory= (and the image sets it)."""
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", state_directory)
    return make_url(load_settings(ROOT / "config.toml").database.url).database

MIN_STOP_TIMEOUT = 35  # the supervisor must wait at least this long before SIGKILL


def seconds(value: str) -> float:
    """A systemd or compose duration ("45", "45s", "1min 30s", "1m30s") in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "ms": 0.001}
    total, rest = 0.0, value.replace(" ", "")
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)([a-z]*)", rest):
        assert unit in units, f"unknown duration unit in {value!r}"
        total += float(number) * units[unit]
    assert re.fullmatch(r"(\d+(?:\.\d+)?[a-z]*)+", rest), f"not a duration: {value!r}"
    return total


def assert_runs_the_daemon(argv: list[str]) -> None:
    """argv is `tracker [--config PATH] run [--log-json]`."""
    assert argv, "no command"
    assert Path(argv[0]).name == "tracker", argv
    assert "run" in argv[1:], argv
    before_run = argv[1 : argv.index("run")]
    if "--config" in before_run:
        at = before_run.index("--config")
        assert at + 1 < len(before_run), f"--config without a path: {argv}"
    for extra in argv[argv.index("run") + 1 :]:
        assert extra in {"--log-json"}, f"unexpected argument after run: {argv}"


# --- systemd ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text(encoding="utf-8"), source=str(UNIT))
    return parser


def test_unit_has_the_three_sections(unit):
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_unit_runs_tracker_run_as_a_dedicated_user(unit):
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].startswith("/"), "ExecStart should name the virtualenv's tracker by path"
    assert_runs_the_daemon(argv)
    assert service["User"] not in {"root", "0"}
    assert service["WorkingDirectory"].startswith("/")


def test_unit_reload_sends_sighup_to_the_main_process(unit):
    argv = shlex.split(unit["Service"]["ExecReload"])
    assert Path(argv[0]).name == "kill"
    assert {"-HUP", "-SIGHUP", "-1"} & set(argv) or argv[1:3] in (["-s", "HUP"], ["-s", "SIGHUP"])
    assert argv[-1] == "$MAINPID"


def test_unit_stops_with_sigterm_and_waits_long_enough(unit):
    service = unit["Service"]
    assert service.get("KillSignal", "SIGTERM") in {"SIGTERM", "TERM", "15"}
    assert seconds(service["TimeoutStopSec"]) >= MIN_STOP_TIMEOUT > STOP_GRACE
    assert service["Restart"] == "on-failure"


def test_unit_waits_for_ready_and_restarts_a_daemon_that_stops_pinging(unit):
    """Type=notify: READY from the daemon's own process; a watchdog longer than anything
    the daemon's loop waits for (a running poll, when it loses the lead), and shorter than
    three of the shortest default poll interval, after which `tracker health` fails."""
    from tracker.config import Settings

    service = unit["Service"]
    assert (service["Type"], service["NotifyAccess"]) == ("notify", "main")
    watchdog = seconds(service["WatchdogSec"])
    shortest = min(Settings().schedule.interval(g).total_seconds()
                   for g in ("markets", "prices", "macro"))
    assert 2 * STOP_GRACE < watchdog < 3 * shortest
    assert seconds(service["TimeoutStartSec"]) >= 120  # migrations before READY
    assert service["Restart"] == "on-failure"  # a watchdog timeout counts as a failure


def test_unit_is_hardened_and_can_still_write_its_database(unit):
    service = unit["Service"]
    assert service["NoNewPrivileges"] in {"yes", "true", "1"}
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] in {"yes", "true", "1"}
    assert service["ProtectHome"] in {"yes", "true", "1", "read-only", "tmpfs"}
    writable = service.get("ReadWritePaths", "").split()
    writable += [f"/var/lib/{name}" for name in service.get("StateDirectory", "").split()]
    workdir = service["WorkingDirectory"]
    assert any(workdir == path or workdir.startswith(path.rstrip("/") + "/") for path in writable), (
        "with ProtectSystem=strict the working directory (where SQLite lives) must be writable"
    )
    # The secrets file is optional ("-"), so a SQLite-only install starts without one.
    assert service["EnvironmentFile"].startswith("-/")


def test_unit_keeps_the_default_database_in_its_state_directory(unit, monkeypatch):
    """The README installs the repository's config.toml as the unit's config: with it, the
    daemon's SQLite file is in the state directory, which the hardening leaves writable."""
    service = unit["Service"]
    names = service["StateDirectory"].split()
    assert names, "no StateDirectory: systemd would not set $STATE_DIRECTORY"
    state = f"/var/lib/{names[0]}"
    assert default_database(monkeypatch, state) == f"{state}/tracker.db"
    argv = shlex.split(service["ExecStart"])
    assert argv[argv.index("--config") + 1] == "/etc/tracker/config.toml"
    assert state in service.get("ReadWritePaths", "").split() + [state]


# --- Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuations joined."""
    instructions, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        if full:
            keyword, _, args = full.partition(" ")
            instructions.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "no FROM"
    return instructions[starts[-1] :]


def last(stage, keyword: str) -> str | None:
    values = [args for kw, args in stage if kw == keyword]
    return values[-1] if values else None


def test_dockerfile_base_is_the_python_the_tests_run_on(final_stage):
    """The image runs the Python version CI tests tracker on (CI runs these tests)."""
    assert final_stage[0][1].split()[0] == f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


def pip_installs(stage) -> list[list[str]]:
    """The arguments of each `pip install` in the stage's RUN lines, in order."""
    installs = []
    for keyword, args in stage:
        if keyword == "RUN":
            for command in re.split(r"&&|;", args):
                words = shlex.split(command)
                if words[:2] == ["pip", "install"]:
                    installs.append(words[2:])
    return installs


def test_dockerfile_installs_the_locked_versions_then_tracker_alone(final_stage):
    first, second = pip_installs(final_stage)
    # The dependencies: only what the lock pins, each file checked against its hash, and
    # wheels only, so nothing is built with tools the lock does not name.
    assert "--require-hashes" in first and "--only-binary=:all:" in first
    lock_in_image = Path(first[first.index("-r") + 1])
    copied = {args.split()[0]: args.split()[-1] for keyword, args in final_stage
              if keyword == "COPY" and len(args.split()) == 2}
    assert copied.get(LOCK.name) in (str(lock_in_image.parent) + "/", str(lock_in_image))
    # tracker itself: nothing more fetched, not even its build backend (locked too).
    assert "--no-deps" in second and "--no-build-isolation" in second


def locked() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock as {name: (version, hashes)}."""
    text = re.sub(r"\\\n", " ", LOCK.read_text(encoding="utf-8"))  # join continued lines
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        name, _, version = requirement.partition("==")
        assert version and re.fullmatch(r"[A-Za-z0-9._-]+", name), f"not an exact pin: {line}"
        hashes = [option.split("=", 1)[1] for option in options if option.startswith("--hash=")]
        assert hashes and all(h.startswith("sha256:") for h in hashes), f"no hash: {name}"
        pins[canonicalize_name(name)] = (version, hashes)
    return pins


def test_the_lock_pins_every_dependency_and_the_build_backend_within_pyproject():
    pins = locked()
    wanted = PYPROJECT["project"]["dependencies"] + PYPROJECT["build-system"]["requires"]
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {LOCK.name}"
        assert requirement.specifier.contains(pins[name][0], prereleases=True), (
            f"{LOCK.name} pins {name}=={pins[name][0]}, outside pyproject.toml's {line!r}")
        for extra in requirement.extras:  # psycopg[binary] needs psycopg-binary too
            assert canonicalize_name(f"{requirement.name}-{extra}") in pins, line
    assert canonicalize_name(PYPROJECT["project"]["name"]) not in pins  # installed after


def test_the_lock_is_for_the_images_python_and_made_as_the_docs_say(final_stage):
    lock = LOCK.read_text(encoding="utf-8")
    python = final_stage[0][1].split()[0].removeprefix("python:").removesuffix("-slim")
    assert f"autogenerated by pip-compile with Python {python}\n" in lock
    command = re.search(r"^#\s+(pip-compile .*)$", lock, flags=re.MULTILINE).group(1)
    docs = (ROOT / "docs" / "dependencies.md").read_text(encoding="utf-8")
    assert " ".join(command.split()) in " ".join(docs.split())


def test_dockerfile_entrypoint_and_cmd_run_the_daemon(final_stage):
    entrypoint, cmd = last(final_stage, "ENTRYPOINT"), last(final_stage, "CMD")
    assert entrypoint and cmd
    # Exec (JSON) form: tracker is PID 1 and receives the stop signal itself.
    assert_runs_the_daemon(json.loads(entrypoint) + json.loads(cmd))
    assert json.loads(entrypoint) == ["tracker"]


def test_dockerfile_does_not_run_as_root(final_stage):
    user = last(final_stage, "USER")
    assert user, "no USER line: the container would run as root"
    name = user.split(":")[0]
    assert name not in {"root", "0"}
    # USER must come after the RUN lines that need root, or it would not be the last word.
    keywords = [kw for kw, _ in final_stage]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw == "RUN")


def test_dockerfile_stops_with_sigterm(final_stage):
    assert last(final_stage, "STOPSIGNAL") in {"SIGTERM", "15"}


def test_dockerfile_workdir_is_data(final_stage):
    assert last(final_stage, "WORKDIR") == "/data"


def test_dockerfile_keeps_the_default_database_on_the_data_volume(final_stage, monkeypatch):
    env = dict(word.split("=", 1) for keyword, args in final_stage if keyword == "ENV"
               for word in shlex.split(args))
    assert env.get("STATE_DIRECTORY") == "/data", "the default database would be in ~/.local"
    assert default_database(monkeypatch, env["STATE_DIRECTORY"]) == "/data/tracker.db"


def test_dockerfile_exposes_the_web_views_default_port(final_stage):
    """`[web] serve` in the daemon listens on the configured port: the image says which,
    so `docker run -p` and compose's ports line have the right one."""
    from tracker.config import WebConfig

    exposed = {word.split("/")[0] for kw, args in final_stage if kw == "EXPOSE"
               for word in args.split()}
    assert str(WebConfig().port) in exposed


def test_dockerfile_healthcheck_uses_tracker_health(final_stage):
    health = last(final_stage, "HEALTHCHECK")
    if health is None:
        pytest.skip("no HEALTHCHECK in the Dockerfile")
    assert "tracker health --quiet || exit 1" in health  # Docker reserves exit code 2


def dockerignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        parts = Path(path).parts
        if fnmatch.fnmatch(path, pattern) or any(fnmatch.fnmatch(part, bare) for part in parts):
            return True
    return False


def test_dockerignore_keeps_local_state_out_of_the_build():
    patterns = dockerignore_patterns()
    for path in (".venv", "data", ".git", ".pytest_cache", "tracker/__pycache__", "config.db"):
        assert ignored(path, patterns), f"{path} would be sent to the Docker builder"


def test_dockerfile_copies_what_pip_needs_and_dockerignore_keeps_it(final_stage):
    patterns = dockerignore_patterns()
    copied = []
    for keyword, args in final_stage:
        if keyword == "COPY" and "--from" not in args:
            copied += args.split()[:-1]  # every argument but the destination
    assert copied, "nothing copied: pip cannot install the project"
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert not ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "pyproject.toml" in copied
    assert pyproject["project"]["readme"] in copied  # setuptools reads it while building
    for package in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        assert package.rstrip("*") in copied, f"package {package} is not copied into the image"


# --- compose ---------------------------------------------------------------------------------


def interpolate(value: str) -> str:
    """Compose's ${VAR:-default} and ${VAR-default}, with VAR unset (a fresh checkout)."""
    value = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", value)
    assert "${" not in value, f"a variable without a default: {value}"
    return value


def environment(service: dict) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


@pytest.fixture(scope="module")
def compose() -> dict:
    yaml = pytest.importorskip(
        "yaml", reason="PyYAML is not installed, so compose.yaml cannot be parsed here"
    )
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_tracker_url_points_at_the_db_service(compose):
    services = compose["services"]
    db, tracker = services["db"], services["tracker"]
    url = make_url(interpolate(environment(tracker)["TRACKER_DATABASE_URL"]))
    assert url.drivername == "postgresql+psycopg"
    assert url.host in services, f"{url.host} is not a service in compose.yaml"
    assert url.host == "db"
    assert url.port in (None, 5432)
    db_env = {key: interpolate(value) for key, value in environment(db).items() if value}
    assert url.username == db_env.get("POSTGRES_USER", "postgres")
    assert url.database == db_env.get("POSTGRES_DB", url.username)
    assert url.password == db_env["POSTGRES_PASSWORD"]


def test_compose_db_is_postgres_16_with_a_volume_and_a_health_check(compose):
    db = compose["services"]["db"]
    assert db["image"].startswith("postgres:16")
    volume = db["volumes"][0].split(":")[0]
    assert volume in (compose.get("volumes") or {}), "the database is not on a named volume"
    test = db["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))


def test_compose_tracker_waits_for_a_healthy_db_and_stops_gracefully(compose):
    tracker = compose["services"]["tracker"]
    assert tracker["build"] in (".", {"context": "."})
    assert tracker["depends_on"]["db"]["condition"] == "service_healthy"
    assert tracker["restart"] == "unless-stopped"
    assert seconds(tracker["stop_grace_period"]) >= MIN_STOP_TIMEOUT


def test_compose_tracker_is_healthy_only_while_tracker_health_says_so(compose):
    test = compose["services"]["tracker"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL" and test[1] == "tracker health --quiet || exit 1"


def test_compose_tracker_reads_the_mounted_config(compose):
    tracker = compose["services"]["tracker"]
    argv = ["tracker", *tracker["command"]]
    assert_runs_the_daemon(argv)
    config_path = argv[argv.index("--config") + 1]
    mounts = {}
    for volume in tracker["volumes"]:
        source, target, *options = volume.split(":")
        mounts[target] = (source, options)
    assert config_path in mounts, f"--config {config_path} is not mounted"
    source, options = mounts[config_path]
    assert (ROOT / source).is_file()
    assert "ro" in options


def test_compose_url_host_names_a_service_even_without_yaml():
    """A plain-text version of the URL check, for machines without PyYAML."""
    text = COMPOSE.read_text(encoding="utf-8")
    urls = re.findall(r"^\s+TRACKER_DATABASE_URL:\s*(\S+)\s*$", text, flags=re.MULTILINE)
    assert urls, "no TRACKER_DATABASE_URL in compose.yaml"
    services_block = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    services = re.findall(r"^  ([A-Za-z0-9._-]+):\s*$", services_block, flags=re.MULTILINE)
    for url in urls:
        assert make_url(interpolate(url)).host in services
