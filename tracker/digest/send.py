"""Sending the daily digest: build the MIME message, hand it to the SMTP server.

``build_message`` makes a multipart/alternative email: the plain text first, then the HTML
as multipart/related carrying each chart as an inline PNG that the HTML references by
``cid:``. ``send`` delivers it over SMTP as ``[email]`` says:

- ``security = "ssl"``: implicit TLS (usually port 465);
- ``security = "starttls"``: plain connection upgraded with STARTTLS (usually port 587);
- ``security = "none"``: no TLS at all, for a relay on the same host or network.

TLS always verifies the server's certificate and host name against the system's trusted
CAs. ``ssl.create_default_context()`` loads OpenSSL's default verify paths, which honour
the ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` environment variables, so a private CA is
trusted by pointing ``SSL_CERT_FILE`` at its PEM file (note this replaces the system bundle
for the whole process). There is no switch to turn verification off.

Credentials are read from the environment when sending, never from the config file: the
variables named by ``username_env`` and ``password_env``. When the user name variable is
unset or empty, no login is attempted. With ``security = "none"`` a login sends the
password in clear, so use it only towards a relay you trust the path to.

Every failure becomes a ``SendError`` with a one-line message saying what failed and
where. Whatever the failure, the daemon tries again until the local day ends
(jobs/digest.py). Delivery is at least once: if the connection drops after the server
took the message but before it said so, a retry sends it again.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from tracker.config import EmailConfig

log = logging.getLogger(__name__)

_MAX_REPLY = 200  # characters of a server reply kept in an error message


class SendError(Exception):
    """The digest could not be sent; the message says what failed, in one line."""


def _domain(address: str) -> str:
    _name, addr = parseaddr(address)
    domain = addr.rpartition("@")[2].strip().strip("[]")
    return domain or "localhost"


def build_message(
    sender: str,
    to: list[str],
    subject: str,
    text: str,
    html: str,
    images: dict[str, bytes],
    when: datetime,
) -> EmailMessage:
    """The digest as an email: plain text, then HTML with ``images`` inline.

    ``images`` maps a Content-ID without angle brackets (``"chart-oil-45@tracker"``) to PNG
    bytes; the HTML refers to each as ``cid:chart-oil-45@tracker``. A naive ``when`` is
    taken as the machine's local time.
    """
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = ", ".join(to)
    # A header cannot hold a line break; market titles in a subject are untrusted text.
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(when if when.tzinfo else when.astimezone())
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_payload()[1]
    for cid, png in images.items():
        html_part.add_related(
            png,
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            disposition="inline",
            filename=f"{cid.partition('@')[0]}.png",
        )
    return message


def _credentials(config: EmailConfig) -> tuple[str, str] | None:
    user = os.environ.get(config.username_env)
    if not user:
        return None
    password = os.environ.get(config.password_env)
    if password is None:
        raise SendError(
            f"${config.username_env} is set but ${config.password_env} is not: "
            "set both to log in to the SMTP server, or neither"
        )
    for name, value in ((config.username_env, user), (config.password_env, password)):
        if not value.isascii():  # smtplib's login sends ASCII only, and would raise
            raise SendError(f"${name} holds characters other than ASCII, which an SMTP "
                            "login cannot send: use an ASCII password (or user name)")
    return user, password


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(text.split())
    if len(text) > _MAX_REPLY:
        text = text[:_MAX_REPLY] + "..."
    return f"{code} {text}".strip()


def _tls_port_hint(config: EmailConfig) -> str:
    # A plain client on an implicit-TLS port waits for a greeting that never comes.
    if config.smtp_port == 465 and config.security != "ssl":
        return ' (port 465 usually needs security = "ssl")'
    return ""


def _close(smtp: smtplib.SMTP) -> None:
    """Say goodbye if the server still listens; the message's fate is already decided."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def send(
    config: EmailConfig,
    message: EmailMessage,
    to: list[str] | None = None,
    timeout: float = 30.0,
) -> str:
    """Send ``message`` to ``to`` (default ``config.to``); return its Message-ID.

    Returns once the server accepted the message for at least one recipient (recipients
    it refused while accepting others are logged as a warning). ``timeout`` (seconds)
    bounds the connection and each exchange with the server. Raises ``SendError``.
    """
    recipients = list(config.to if to is None else to)
    if not recipients:
        raise SendError("no recipients: set [email] to in the config")
    credentials = _credentials(config)
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=_domain(config.sender))
    message_id = str(message["Message-ID"])
    where = f"{config.smtp_host}:{config.smtp_port}"
    progress = _Progress()
    try:
        refused = _exchange(config, message, recipients, credentials, timeout, progress)
    except SendError:
        raise
    except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
        raise _send_error(exc, config, where, progress.stage, timeout) from None
    if refused:
        log.warning(
            "SMTP server %s refused some recipients of %s: %s",
            where,
            message_id,
            "; ".join(f"{addr}: {_reply(code, text)}" for addr, (code, text) in refused.items()),
        )
    return message_id


class _Progress:
    """How far the exchange got, for an error line ("... while logging in")."""

    stage = "connecting"


def _exchange(config: EmailConfig, message: EmailMessage, recipients: list[str],
              credentials, timeout: float, progress: _Progress) -> dict:
    """Connect, secure, log in and send; the recipients the server refused."""
    host, port = config.smtp_host, config.smtp_port
    where = f"{host}:{port}"
    if config.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config.security == "starttls":
            progress.stage = "starting TLS"
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise SendError(
                    f"SMTP server {where} does not offer STARTTLS "
                    '(security = "starttls" in [email])'
                )
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if credentials:
            progress.stage = "logging in"
            smtp.ehlo_or_helo_if_needed()
            if not smtp.has_extn("auth"):
                raise SendError(
                    f"SMTP server {where} does not offer AUTH, but "
                    f"${config.username_env} is set"
                )
            smtp.login(*credentials)
        progress.stage = "sending"
        envelope_from = parseaddr(config.sender)[1] or config.sender
        return smtp.send_message(message, from_addr=envelope_from, to_addrs=recipients)
    finally:
        _close(smtp)


def _send_error(exc: Exception, config: EmailConfig, where: str, stage: str,
                timeout: float) -> SendError:
    """What went wrong, and where, as one line."""
    host = config.smtp_host
    late = (f"SMTP server {where} did not answer within {timeout:g}s while {stage}"
            f"{_tls_port_hint(config)}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{addr}: {_reply(code, text)}"
                           for addr, (code, text) in exc.recipients.items())
        return SendError(f"SMTP server {where} refused every recipient ({detail})")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SendError(
            f"SMTP server {where} rejected the login for the user in ${config.username_env}: "
            f"{_reply(exc.smtp_code, exc.smtp_error)}"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return SendError(f"SMTP server {where} said {_reply(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if isinstance(exc.__context__, TimeoutError):  # smtplib re-raises a read timeout
            return SendError(late)
        return SendError(f"SMTP server {where} closed the connection while {stage} ({exc})")
    if isinstance(exc, smtplib.SMTPException):
        # No STARTTLS/AUTH/SMTPUTF8 where needed, no usable AUTH method: configuration.
        return SendError(f"SMTP with {where} failed while {stage}: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SendError(f"certificate verify failed for {host}: "
                         f"{exc.verify_message or exc.reason}")
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return SendError(f"SMTP server {where} closed the TLS connection while {stage} "
                         f"({exc.reason})")
    if isinstance(exc, ssl.SSLError):
        hint = ' (is security = "ssl" right for this port?)' if config.security == "ssl" else ""
        return SendError(f"TLS with SMTP server {where} failed: {exc.reason or exc}{hint}")
    if isinstance(exc, ConnectionRefusedError):
        return SendError(f"SMTP server {where} refused the connection")
    if isinstance(exc, TimeoutError):
        return SendError(late)
    if isinstance(exc, socket.gaierror):
        return SendError(f"cannot look up SMTP host {host}: {exc.strerror or exc}")
    return SendError(f"SMTP server {where} unreachable while {stage}: "
                     f"{exc.strerror or exc}")
