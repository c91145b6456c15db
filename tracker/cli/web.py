"""`tracker serve`: the read-only web view and JSON API (tracker/web/) on uvicorn."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_FAILED, fail, handle_errors

if TYPE_CHECKING:
    import socket


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default answers this machine only.")
@click.option("--port", default=8150, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@pass_app
@handle_errors
def serve(app: App, host: str, port: int) -> None:
    """Serve the web view, read only: the scoreboard, each person's calls, each claim
    with its chart, series and sources; and the same data as JSON under /api/."""
    import uvicorn

    from tracker.web.app import create_app
    from tracker.web.data import Source

    notice = None
    if app.demo:
        from tracker.demo import banner, demo_database

        notice = banner(demo_database())
    # A bad config or no database stops here, before anything listens.
    source = Source(app.engine, app.registry, app.settings, notice)
    try:
        listener = listening_socket(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_FAILED)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving http://{shown}:{port}/ (read only; Ctrl-C stops)", err=True)
    config = uvicorn.Config(create_app(source), log_level="warning", server_header=False)
    uvicorn.Server(config).run(sockets=[listener])


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (IPv4 or IPv6, as ``host`` reads), so that a
    port in use or an address not on this machine is one clear line before serving."""
    import socket

    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener
