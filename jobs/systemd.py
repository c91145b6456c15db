"""Telling systemd how the daemon is doing (sd_notify(3)), with the unit's ``Type=notify``
and ``WatchdogSec=`` (deploy/tracker.service).

systemd names a datagram socket in ``$NOTIFY_SOCKET`` (a path, or an abstract name
written with a leading ``@``); each message is newline-separated ``KEY=value`` lines:
``READY=1`` once the daemon works, ``STATUS=...`` for ``systemctl status``,
``WATCHDOG=1`` as a sign of life, ``STOPPING=1`` when it stops. ``$WATCHDOG_USEC`` is the
watchdog's timeout; a ping every half of it keeps the service alive. Without
``$NOTIFY_SOCKET`` (a terminal, Docker) every call here does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

log = logging.getLogger("tracker.daemon")


class Notifier:
    """Messages to systemd; pings to its watchdog at most every half of its timeout."""

    def __init__(self, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        environ = os.environ if environ is None else environ
        address = environ.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_interval = _watchdog_interval(environ)
        self._clock = clock
        self._last_ping: float | None = None

    def ready(self, status: str) -> None:
        self._send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self._send(f"STATUS={status}")

    def stopping(self) -> None:
        self._send("STOPPING=1", "STATUS=stopping")

    def watchdog(self) -> None:
        """A sign of life, sent when half the watchdog's timeout has passed since the last."""
        if self.watchdog_interval is None or not self._address:
            return
        now = self._clock()
        if self._last_ping is None or now - self._last_ping >= self.watchdog_interval:
            self._send("WATCHDOG=1")
            self._last_ping = now

    def _send(self, *lines: str) -> None:
        if not self._address:
            return
        message = "\n".join(lines).encode("utf-8", "replace")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message, self._address)
        except OSError as exc:  # systemd gone or the socket not ours: polling goes on
            log.debug("could not notify systemd at %s: %s", self._address, exc)


def _watchdog_interval(environ: Mapping[str, str]) -> float | None:
    """Seconds between pings: half the watchdog's timeout, when it watches this process
    (``$WATCHDOG_PID``, when set, names the process it watches)."""
    pid = environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None
