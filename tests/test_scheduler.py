"""The daemon's schedule: one job per group in use, explicit ids, UTC, never overlapping."""

from datetime import timedelta

from jobs.scheduler import build_scheduler
from tracker.config import settings_from_dict
from tracker.registry import load_registry


def test_one_poll_job_per_group_in_use(engine):
    settings = settings_from_dict(
        {"schedule": {"prices_every": "10m", "macro_every": "2h", "markets_every": "3m"}}
    )
    scheduler = build_scheduler(settings, load_registry(settings), engine)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    # The bundled registry reads Yahoo (prices), FRED (macro) and Polymarket (markets).
    assert set(jobs) == {"poll-prices", "poll-macro", "poll-markets"}
    assert jobs["poll-prices"].trigger.interval == timedelta(minutes=10)
    assert jobs["poll-macro"].trigger.interval == timedelta(hours=2)
    assert jobs["poll-markets"].trigger.interval == timedelta(minutes=3)
    for job in jobs.values():
        assert job.max_instances == 1
        assert job.coalesce is True
        assert job.next_run_time is not None  # runs once at start
    assert str(scheduler.timezone) == "UTC"


def test_no_jobs_without_predictions(engine):
    settings = settings_from_dict({"registry": {"bundled": False}})
    assert build_scheduler(settings, load_registry(settings), engine).get_jobs() == []
