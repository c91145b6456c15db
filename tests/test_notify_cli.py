"""`tracker notify --test`, and what `tracker health` says of notifications: through the
command line, the lean path printing the same bytes."""

from __future__ import annotations

import json

from db.engine import open_database
from tests.forked_cli import run_tracker
from tests.notify_receiver import Receiver
from tests.test_notify import World
from tracker.quick import lean_answer


def write_config(tmp_path, urls) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "tracker.db"}"\n'
                    f'[registry]\nbundled = false\n[notify]\nurls = {json.dumps(urls)}\n')
    return str(path)


def test_notify_test_sends_to_every_target_and_says_how_each_went(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_TOKEN", "s3cret-token")
    with Receiver() as good, Receiver(default=500) as bad:
        config = write_config(tmp_path, [
            f"json://{{env:HOOK_TOKEN}}@127.0.0.1:{good.port}/hook?token={{env:HOOK_TOKEN}}",
            bad.ntfy_url("alerts")])
        done = run_tracker(["--config", config, "notify", "--test"])
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"json://127.0.0.1:{good.port}: ok"
    assert lines[1].startswith(f"ntfy://127.0.0.1:{bad.port}: ") and "500" in lines[1]
    assert len(lines) == 2 and "s3cret" not in done.stdout + done.stderr
    assert [body["title"] for body in good.accepted] == ["tracker: test message"]
    assert len(bad.requests) == 1


def test_notify_test_all_well_exits_0(tmp_path):
    with Receiver() as target:
        done = run_tracker(["--config", write_config(tmp_path, [target.json_url()]),
                            "notify", "--test"])
    assert (done.returncode, done.stdout) == (0, f"json://127.0.0.1:{target.port}: ok\n")


def test_notify_test_without_targets_or_with_a_variable_unset_is_one_line_exit_2(tmp_path, monkeypatch):
    done = run_tracker(["--config", write_config(tmp_path, []), "notify", "--test"])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tracker: no notification targets: set [notify] urls in the config"]
    monkeypatch.delenv("NTFY_TOKEN", raising=False)
    config = write_config(tmp_path, ["ntfys://{env:NTFY_TOKEN}@ntfy.example.org/alerts"])
    for command in (["notify", "--test"], ["run"]):
        done = run_tracker(["--config", config, *command])
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [
            "tracker: [notify] urls: ntfys://ntfy.example.org names $NTFY_TOKEN, which is not set"]


def test_health_reports_the_outbox_and_a_failing_target_the_lean_path_alike(tmp_path):
    with Receiver() as good, Receiver(default=500) as bad:
        urls = [good.json_url(), bad.json_url("broken")]
        config = write_config(tmp_path, urls)
        engine = open_database(f"sqlite:///{tmp_path / 'tracker.db'}")
        world = World(engine, urls, max_attempts=1)
        world.odds(0.55)
        world.odds(0.30)
        world.send()
        world.odds(0.80)  # waits: not sent yet
        engine.dispose()
    full = run_tracker(["--config", config, "health"])
    assert full.returncode == 1, full.stderr  # no daemon, and a message given up
    lines = full.stdout.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("notifications: ")))
    assert lines[start].startswith("notifications: 2 waiting, the oldest since ")
    ok = next(i for i, line in enumerate(lines) if f":{good.port}: " in line)
    failing = next(i for i, line in enumerate(lines) if f":{bad.port}: " in line)
    assert lines[ok].startswith(f"  json://127.0.0.1:{good.port}: ok, last accepted ")
    assert lines[failing] == (f"  json://127.0.0.1:{bad.port}: FAILING: 1 waiting (0 retrying), "
                              "1 given up, never accepted one")
    assert lines[failing + 1].startswith("    last error: ") and "500" in lines[failing + 1]
    assert lines[start + 4:start + 7] == [
        "leader: none",
        "PROBLEM: no daemon holds the leader lock on this database",
        (f"PROBLEM: notify target json://127.0.0.1:{bad.port}: 1 message given up since it "
         "last accepted one")]
    # The messages were written in June, in the test's clock: waiting for months now.
    assert lines[start + 7].startswith("PROBLEM: notifications stuck: 2 waiting, the oldest for ")
    assert len(lines) == start + 8
    lean = lean_answer(["--config", config, "health"])
    assert lean is not None and (lean.stdout, lean.code) == (full.stdout, 1)
    as_json = run_tracker(["--config", config, "health", "--json"])
    found = json.loads(as_json.stdout)["notifications"]
    assert found["pending"] == 2
    assert sorted((t["label"], t["given_up"]) for t in found["targets"]) == sorted([
        (f"json://127.0.0.1:{good.port}", 0), (f"json://127.0.0.1:{bad.port}", 1)])
    lean = lean_answer(["--config", config, "health", "--json"])
    assert lean is not None and lean.stdout == as_json.stdout
