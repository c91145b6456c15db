"""The web app on uvicorn: the socket it listens on, bound before serving so that a port
in use is one clear line, and the app served from a thread of its own, for the daemon."""

from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp

log = logging.getLogger("tracker.web")

STOP_GRACE = 5.0  # seconds open requests may take to finish once the server is told to stop


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (IPv4 or IPv6, as ``host`` reads). Raises
    OSError for a port in use or an address not on this machine."""
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


def address_text(host: str, port: int) -> str:
    """``http://host:port/``, an IPv6 address in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


class BackgroundServer:
    """``app`` served on ``listener`` by uvicorn in a daemon thread, until ``stop``.

    uvicorn installs no signal handlers outside the main thread: the process's own
    handlers decide when to stop, and call ``stop``. Its loggers propagate to the
    process's handlers (no configuration of its own), and it logs no access lines."""

    def __init__(self, app: ASGIApp, listener: socket.socket):
        import uvicorn

        config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False,
                                server_header=False, timeout_graceful_shutdown=STOP_GRACE)
        self._server = uvicorn.Server(config)
        self._listener = listener
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._listener])
        except Exception:  # the polls go on without the web view
            log.exception("the web view stopped")
        finally:
            self._listener.close()

    def stop(self) -> None:
        """Stop listening, let open requests finish (up to STOP_GRACE), and return."""
        self._server.should_exit = True
        self._thread.join(STOP_GRACE + 5.0)
