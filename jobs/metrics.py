"""The daemon's Prometheus endpoint (``[metrics] port``): /metrics, served from a thread
of its own by prometheus-client's server, on every daemon, leader or standby. The polls
matter more than the metrics: a port in use is one log line, and polling goes on."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable
    from wsgiref.simple_server import WSGIServer

    from sqlalchemy import Engine

    from tracker.config import Settings
    from tracker.metrics.activity import DaemonActivity
    from tracker.registry import Registry

log = logging.getLogger("tracker.daemon")


class DaemonMetrics:
    """The endpoint and the daemon's activity it shows: started once, stopped at exit."""

    def __init__(self, activity: DaemonActivity, server: WSGIServer, thread: threading.Thread,
                 listening: tuple[str, int]):
        self.activity, self._server, self._thread = activity, server, thread
        self.listening = listening

    @classmethod
    def start(cls, settings: Settings, engine: Engine, registry: Callable[[], Registry],
              sources: Iterable[str]) -> DaemonMetrics | None:
        """Serving on ``[metrics] host`` and ``port``; None, after one log line, when it
        cannot. ``registry``: the daemon's predictions now; ``sources``: those it polls."""
        # Imported here: a daemon without metrics never loads them.
        from prometheus_client import CollectorRegistry, start_http_server

        from tracker.metrics.activity import DaemonActivity
        from tracker.metrics.state import StateCollector
        from tracker.service.notify import outbox_pending

        metrics = CollectorRegistry()
        metrics.register(StateCollector(engine, registry,
                                        outbox_pending=lambda: outbox_pending(engine)))
        activity = DaemonActivity(metrics, sources)
        host, port = settings.metrics.host, settings.metrics.port
        try:
            server, thread = start_http_server(port, addr=host, registry=metrics)
        except OSError as exc:
            log.error("not serving metrics: cannot listen on %s:%s: %s; polling goes on",
                      host, port, exc.strerror or exc)
            return None
        shown = f"[{host}]" if ":" in host else host
        log.info("serving metrics on http://%s:%s/metrics", shown, port)
        return cls(activity, server, thread, (host, port))

    def reload(self, settings: Settings) -> None:
        """A new address takes a restart: say so."""
        if (settings.metrics.host, settings.metrics.port) != self.listening:
            log.warning("[metrics] host or port changed: that takes a restart; "
                        "serving metrics on %s:%s until then", *self.listening)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)
