"""Notification targets: Apprise URLs, one per service (``ntfys://topic``,
``discord://webhook_id/webhook_token``, ``json://host/path``).

A URL in the config names its secrets as ``{env:NAME}``; the value is read from the
environment only when a message is sent, so it is never stored nor printed. A target is
stored by a hash of its URL as written (``key``) and shown by its scheme and host
(``label``)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from db.outbox import Target
from tracker.config import ENV_REFERENCE, ConfigError
from tracker.redact import redact, scheme_and_host

INSTALL_HINT = "pip install 'prediction-tracker[notify]'"
TIMEOUT_SECONDS = 10.0  # to connect, and to read the answer: a hung target blocks no one long


def target_of(url: str) -> Target:
    return Target(hashlib.sha256(url.encode()).hexdigest(), scheme_and_host(url))


def targets_of(urls: list[str]) -> list[Target]:
    return [target_of(url) for url in urls]


def require_apprise() -> None:
    """A clear line when notifications are configured and Apprise is not installed."""
    try:
        import apprise  # noqa: F401
    except ImportError:
        raise ConfigError(f"[notify] urls is set, but Apprise is not installed: {INSTALL_HINT}") from None


def resolve(url: str, environ: Mapping[str, str] | None = None) -> str:
    """The URL with each ``{env:NAME}`` replaced by that variable's value."""
    environ = os.environ if environ is None else environ

    def value(match) -> str:
        name = match.group(1)
        if not environ.get(name):
            raise ConfigError(f"[notify] urls: {scheme_and_host(url)} names ${name}, which is not set")
        return environ[name]

    return ENV_REFERENCE.sub(value, url)


def check(urls: list[str], environ: Mapping[str, str] | None = None) -> None:
    """Raise ConfigError when Apprise is missing or a URL cannot be used."""
    if not urls:
        return
    require_apprise()
    import apprise

    for url in urls:
        if apprise.Apprise.instantiate(resolve(url, environ)) is None:
            raise ConfigError(f"[notify] urls: Apprise does not understand {scheme_and_host(url)}")


def send(url: str, title: str, body: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Send one message; None when the target accepted it, else why not (one line, with
    no secret in it)."""
    import apprise

    try:
        resolved = resolve(url, environ)
    except ConfigError as exc:
        return str(exc)
    plugin = apprise.Apprise.instantiate(resolved)
    if plugin is None:
        return "Apprise does not understand this URL"
    plugin.socket_connect_timeout = plugin.socket_read_timeout = TIMEOUT_SECONDS
    with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
        try:
            accepted = plugin.notify(body=body, title=title)
        except Exception as exc:  # noqa: BLE001 (a plugin's bug is this target's failure, no one else's)
            return _scrub(f"{type(exc).__name__}: {exc}", url, resolved, environ)
        logged = log.getvalue()
    if accepted:
        return None
    lines = [line for line in logged.splitlines() if line.strip()]
    return _scrub(" ".join(lines[-2:]) or "the target refused the message", url, resolved,
                  environ)


def _scrub(text: str, url: str, resolved: str, environ: Mapping[str, str] | None) -> str:
    """``text`` without the values of the URL's environment variables, nor userinfo."""
    environ = os.environ if environ is None else environ
    for match in ENV_REFERENCE.finditer(url):
        secret = environ.get(match.group(1))
        if secret:
            text = text.replace(secret, "***")
    if resolved != url:
        text = text.replace(resolved, scheme_and_host(url))
    return redact(" ".join(text.split()))
