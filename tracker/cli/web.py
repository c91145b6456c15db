"""`tracker serve`: the read-only web view and JSON API (tracker/web/) on uvicorn."""

from __future__ import annotations

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_FAILED, fail, handle_errors


@cli.command()
@click.option("--host", help="Address to listen on  [default: [web] host in the config; "
              "unset, 127.0.0.1: this machine only]")
@click.option("--port", type=click.IntRange(1, 65535),
              help="Port to listen on  [default: [web] port in the config; unset, 8150]")
@pass_app
@handle_errors
def serve(app: App, host: str | None, port: int | None) -> None:
    """Serve the web view, read only: the scoreboard, each person's calls, each claim
    with its chart, series and sources; and the same data as JSON under /api/."""
    import uvicorn

    from tracker.web.app import create_app
    from tracker.web.data import Source
    from tracker.web.server import address_text, listening_socket

    notice = None
    if app.demo:
        from tracker.demo import banner, demo_database

        notice = banner(demo_database())
    # A bad config or no database stops here, before anything listens.
    source = Source(app.engine, app.registry, app.settings, notice)
    host = app.settings.web.host if host is None else host
    port = app.settings.web.port if port is None else port
    try:
        listener = listening_socket(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_FAILED)
    click.echo(f"serving {address_text(host, port)} (read only; Ctrl-C stops)", err=True)
    config = uvicorn.Config(create_app(source), log_level="warning", server_header=False)
    uvicorn.Server(config).run(sockets=[listener])
