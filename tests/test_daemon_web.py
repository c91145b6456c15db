"""`tracker run` with ``[web] serve = true``, as a real process: it serves the web view
while it polls, closes the port when it stops, and a port in use costs the pages, never
the polls."""

import signal
import socket

import httpx

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import YAHOO_CHART, replay_config
from tests.test_daemon import start_daemon, wait_for
from tests.test_daemon_reliability import Daemon


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serving_config(tmp_path, server, port):
    symbol, fixture = YAHOO_CHART
    server.add(f"/v8/finance/chart/{symbol}", Reply.file(fixture))
    config = replay_config(tmp_path, server.url, symbols=[symbol])
    with config.open("a") as text:
        text.write(f"\n[web]\nserve = true\nport = {port}\n")
    return config


def page(port, path):
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    except httpx.TransportError:
        return None


def stop(daemon):
    daemon.send_signal(signal.SIGTERM)
    try:
        return daemon.communicate(timeout=30)[1]
    finally:
        if daemon.poll() is None:
            daemon.kill()


def test_the_daemon_serves_the_pages_while_it_polls_and_closes_the_port_on_stop(tmp_path):
    port = free_port()
    with ReplayServer() as server:
        daemon = start_daemon(serving_config(tmp_path, server, port))
        try:
            assert wait_for(lambda: server.requests), "the daemon never polled"
            assert wait_for(lambda: (answer := page(port, "/")) is not None
                            and answer.status_code == 200), "the web view never answered"
            claim = page(port, "/p/watch-0")  # the daemon's own registry
            assert claim.status_code == 200 and "watch yahoo:" in claim.text
        finally:
            stderr = stop(daemon)
    assert daemon.returncode == 0, stderr
    assert f"serving the web view on http://127.0.0.1:{port}/" in stderr
    assert "tracker daemon stopped" in stderr and "Traceback" not in stderr
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the port is still open"


def test_a_port_in_use_is_one_line_and_the_daemon_still_polls(tmp_path):
    with socket.socket() as taken, ReplayServer() as server:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        daemon = Daemon(serving_config(tmp_path, server, port))
        try:
            assert daemon.saw("yahoo: ok"), daemon.log
        finally:
            assert daemon.stop() == 0, daemon.log
    refusals = [line for line in daemon.lines if "web view" in line]
    assert len(refusals) == 1, daemon.log
    assert refusals[0].endswith(f"ERROR tracker.daemon: not serving the web view: cannot "
                                f"listen on 127.0.0.1:{port}: Address already in use; "
                                f"polling goes on")
    assert "Traceback" not in daemon.log


def test_a_reload_shows_the_new_registry_on_the_pages(tmp_path):
    port = free_port()
    with ReplayServer() as server:
        config = serving_config(tmp_path, server, port)
        daemon = Daemon(config)
        try:
            assert daemon.saw("serving the web view"), daemon.log
            assert page(port, "/p/added").status_code == 404
            config.write_text(config.read_text() + (
                '\n[[prediction]]\nid = "added"\nwho = "T"\nmade_on = 2020-01-01\n'
                'claim = "added by a reload"\nkind = "manual"\n'))
            daemon.proc.send_signal(signal.SIGHUP)
            assert daemon.saw("reloaded the config: 2 predictions"), daemon.log
            added = page(port, "/p/added")
            assert added.status_code == 200 and "added by a reload" in added.text
        finally:
            assert daemon.stop() == 0, daemon.log
    assert "Traceback" not in daemon.log


def test_stopping_the_web_view_closes_its_port_while_the_process_lives(tmp_path):
    from db.engine import open_database
    from jobs.web import DaemonWeb
    from tracker.config import settings_from_dict
    from tracker.registry import load_registry

    port = free_port()
    settings = settings_from_dict({"registry": {"bundled": False},
                                   "web": {"serve": True, "port": port}})
    engine = open_database(f"sqlite:///{tmp_path / 'tracker.db'}")
    web = DaemonWeb.start(settings, load_registry(settings), engine)
    try:
        assert page(port, "/").status_code == 200
    finally:
        web.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the port is still open"
