"""`tracker` commands run in processes forked from one that has imported the CLI once.

A test that reads what a command prints needs it run as `tracker` runs: in a process of
its own, which loads the config and opens the database afresh, with the test's
environment and working folder. A new interpreter for each command spends half a second
of a core on imports; so a process that has imported them forks a child per command, and
the child runs the CLI's entry point. Tests about the process itself (its imports, its
signals, a terminal) start real interpreters instead.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# Reads a JSON request a line: forks a child that runs the CLI with the request's
# arguments, environment, folder and time limit, its output in the files named; answers
# with the child's exit status once it has ended. The child leaves as a `tracker` process
# does: the exit code of the SystemExit the CLI raises, a traceback for an error, atexit
# handlers run, its database connections closed and its output flushed; but not through
# the interpreter's teardown, which would write to every object it shares with the parent.
SERVER = r"""
import atexit, gc, importlib, json, os, pkgutil, signal, sys
# Every module of the project (but the alembic environment, and __main__ modules, which run
# on import) and the drivers: what any command would import, found afresh each run.
for package in ("tracker", "db", "jobs"):
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
        if not (info.name.startswith("db.migrations") or info.name.endswith("__main__")):
            try:
                importlib.import_module(info.name)
            except Exception:  # a module that fails to import: its command fails in the child
                pass
for name in ("sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql.psycopg",
             "alembic.command", "psycopg"):
    importlib.import_module(name)
import tracker.cli
from sqlalchemy import event
from sqlalchemy.pool import Pool

opened = []  # every database connection a child opens, closed as the interpreter would


@event.listens_for(Pool, "connect")
def _opened(dbapi_connection, _record):
    opened.append(dbapi_connection)


gc.freeze()  # the collector leaves what is imported alone: the children share its pages
print("ready", flush=True)
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(os.open(request["out"], os.O_WRONLY | os.O_TRUNC), 1)
        os.dup2(os.open(request["err"], os.O_WRONLY | os.O_TRUNC), 2)
        signal.alarm(request["timeout"])
        sys.argv = ["tracker", *request["args"]]
        try:
            importlib.import_module(request["main"]).main()
            code = 0
        except SystemExit as exc:  # as the interpreter reads it
            code = exc.code if isinstance(exc.code, int) or exc.code is None else 1
            if not isinstance(exc.code, int) and exc.code is not None:
                print(exc.code, file=sys.stderr)
        except BaseException:
            sys.excepthook(*sys.exc_info())
            code = 1
        atexit._run_exitfuncs()
        for connection in opened:  # SQLite's last close checkpoints and removes the WAL
            try:
                connection.close()
            except Exception:
                pass
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 0)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class _Server:
    """One SERVER process for this test process, started when first needed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None

    def start(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.folder = Path(tempfile.mkdtemp(prefix="forked-cli-"))  # the commands' output
            self.out, self.err = self.folder / "out", self.folder / "err"
            self.proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
            if self.proc.stdout.readline() != "ready\n":
                raise RuntimeError("the process that forks `tracker` commands did not start")
            atexit.register(self.stop)
        return self.proc

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


_SERVER = _Server()


def _text(data: bytes) -> str:
    """As subprocess.run(text=True) reads it: UTF-8, universal newlines."""
    return data.decode().replace("\r\n", "\n").replace("\r", "\n")


def run_tracker(
    args: list[str], *, cwd=None, env: dict[str, str] | None = None, timeout: int = 60,
    text: bool = True, main: str = "tracker.cli",
) -> subprocess.CompletedProcess:
    """`tracker ARGS` in a child of its own, as subprocess.run(capture_output=True,
    check=False) would run `python -m MAIN ARGS`: in ``cwd`` with ``env`` (this process's
    by default), its output read as text (or bytes with ``text=False``). ``main`` is
    tracker.cli (the full CLI) or tracker.entry (the `tracker` command, quick path first)."""
    with _SERVER.lock:
        server = _SERVER.start()
        _SERVER.out.write_bytes(b"")
        _SERVER.err.write_bytes(b"")
        request = {"args": [str(a) for a in args], "cwd": str(cwd or os.getcwd()),
                   "env": dict(os.environ if env is None else env), "out": str(_SERVER.out),
                   "err": str(_SERVER.err), "timeout": int(timeout),
                   "main": main}
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        line = server.stdout.readline()
        if not line:
            raise RuntimeError(f"the process that forks `tracker` commands ended ({server.wait()})")
        code = json.loads(line)["code"]
        out, err = _SERVER.out.read_bytes(), _SERVER.err.read_bytes()
    if text:
        out, err = _text(out), _text(err)
    command = ["tracker", *map(str, args)]
    if code == -14:  # SIGALRM: the time limit, as subprocess.run's timeout would say
        raise subprocess.TimeoutExpired(command, timeout, out, err)
    return subprocess.CompletedProcess(command, code, out, err)
