"""`tracker metrics [--textfile PATH]`: the database's state as Prometheus metrics
(tracker/metrics/state.py), on stdout or for node_exporter's textfile collector."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_FAILED, fail, handle_errors


@cli.command()
@click.option("--textfile", type=click.Path(path_type=Path, dir_okay=False),
              help="Write them to PATH (replaced whole, never half-written), for "
                   "node_exporter's textfile collector, which reads *.prom files.")
@pass_app
@handle_errors
def metrics(app: App, textfile: Path | None) -> None:
    """Print the sources' health and the claims' statuses and probabilities as
    Prometheus metrics. The daemon serves the same, with its polls, at /metrics when
    [metrics] port is set."""
    from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile

    from tracker.metrics.state import StateCollector
    from tracker.service.notify import outbox_pending

    registry = CollectorRegistry()
    registry.register(StateCollector(app.engine, lambda: app.registry, strict=True,
                                     outbox_pending=lambda: outbox_pending(app.engine)))
    if textfile is None:
        click.echo(generate_latest(registry).decode(), nl=False)
        return
    try:
        # A file of its own in the same folder, renamed over PATH once complete: the
        # collector never reads half a file.
        write_to_textfile(str(textfile), registry)
    except OSError as exc:
        fail(f"{textfile}: cannot write: {exc.strerror or exc}", EXIT_FAILED)
