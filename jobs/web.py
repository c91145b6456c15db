"""The web view inside the daemon (``[web] serve = true``): the same pages as `tracker
serve`, over the daemon's database and registry, served from a thread of its own. The
polls matter more than the pages: a port in use is one log line, and polling goes on."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tracker.config import Settings
    from tracker.registry import Registry
    from tracker.web.data import Source
    from tracker.web.server import BackgroundServer

log = logging.getLogger("tracker.daemon")


class DaemonWeb:
    """The daemon's web view: started once, given each reloaded config, stopped at exit."""

    def __init__(self, source: Source, server: BackgroundServer, listening: tuple[str, int]):
        self.source, self._server, self.listening = source, server, listening

    @classmethod
    def start(cls, settings: Settings, registry: Registry, engine: Engine) -> DaemonWeb | None:
        """Serving on ``[web] host`` and ``port``; None, after one log line, when it cannot."""
        from tracker.web.app import create_app
        from tracker.web.data import Source
        from tracker.web.server import BackgroundServer, address_text, listening_socket

        host, port = settings.web.host, settings.web.port
        try:
            listener = listening_socket(host, port)
        except OSError as exc:
            log.error("not serving the web view: cannot listen on %s:%s: %s; polling goes on",
                      host, port, exc.strerror or exc)
            return None
        source = Source(engine, registry, settings)
        server = BackgroundServer(create_app(source), listener)
        server.start()
        log.info("serving the web view on %s", address_text(host, port))
        return cls(source, server, (host, port))

    def reload(self, settings: Settings, registry: Registry) -> None:
        """Show the reloaded registry and settings; a new address takes a restart."""
        self.source.registry, self.source.settings = registry, settings
        if (settings.web.host, settings.web.port) != self.listening or not settings.web.serve:
            log.warning("[web] serve, host or port changed: that takes a restart; "
                        "serving on %s:%s until then", *self.listening)

    def stop(self) -> None:
        self._server.stop()
        log.info("stopped the web view")
