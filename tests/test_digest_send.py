"""Sending the digest to a real SMTP server (aiosmtpd) on loopback: plain, STARTTLS with
login, implicit TLS, and the failures a user sees (server down, silent server, 4xx/5xx
replies, bad password, untrusted or mismatched certificate). No mocks of smtplib.

The client trusts the test CA the way a user would trust a private one: SSL_CERT_FILE.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
import zlib
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tracker.config import EmailConfig
from tracker.digest.send import SendError, build_message, send

USER_ENV = "TRACKER_TEST_SMTP_USER"
PASSWORD_ENV = "TRACKER_TEST_SMTP_PASSWORD"
FAST = 3.0  # seconds: loopback answers at once, failures must not hang the suite


def _png(rgb: tuple[int, int, int]) -> bytes:
    """A valid 1x1 PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


IMAGES = {"chart-oil-45@tracker": _png((200, 0, 0)), "chart-fed-cut@tracker": _png((0, 0, 200))}
HTML = """<html><body><h1>Tracker digest</h1>
<p>Oil at $45 — moved +7 points</p><img src="cid:chart-oil-45@tracker" alt="oil">
<p>Fed cut</p><img src="cid:chart-fed-cut@tracker" alt="fed">
</body></html>"""
TEXT = "Tracker digest\n\nOil at $45 — moved +7 points\nFed cut\n"


def _message(to=("me@example.com",)):
    return build_message(
        "Tracker <tracker@example.org>", list(to), "Tracker digest for 2026-03-02",
        TEXT, HTML, IMAGES, datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
    )


def _config(port: int, security: str = "none", to=("me@example.com",)) -> EmailConfig:
    return EmailConfig.model_validate({
        "to": list(to), "from": "Tracker <tracker@example.org>",
        "smtp_host": "127.0.0.1", "smtp_port": port, "security": security,
        "username_env": USER_ENV, "password_env": PASSWORD_ENV,
    })


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """Accepts everything (or answers ``data_reply`` / ``rcpt_replies``) and keeps it."""

    def __init__(self, data_reply: str | None = None, rcpt_replies: dict | None = None):
        self.envelopes = []
        self.data_reply = data_reply
        self.rcpt_replies = rcpt_replies or {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class Authenticator:
    def __init__(self, user: str, password: str):
        self.user, self.password = user.encode(), password.encode()
        self.logins = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and (auth_data.login, auth_data.password) == (self.user, self.password))
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: server replies 535


@pytest.fixture
def smtp_server():
    """Start a loopback SMTP server: ``smtp_server(handler, **controller_kwargs) -> port``."""
    controllers = []

    def start(handler, **kwargs) -> int:
        port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def server_tls(ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def trust_ca(ca, tmp_path, monkeypatch):
    pem = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch):
    monkeypatch.delenv(USER_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)


def _login_as(monkeypatch, user="digest", password="s3cret"):
    monkeypatch.setenv(USER_ENV, user)
    monkeypatch.setenv(PASSWORD_ENV, password)


def test_plain_send_delivers_text_html_and_every_chart_inline(smtp_server):
    recorder = Recorder()
    port = smtp_server(recorder)
    message = _message(to=["me@example.com", "you@example.net"])

    message_id = send(_config(port, to=["me@example.com", "you@example.net"]), message,
                      timeout=FAST)

    [(mail_from, rcpt_tos, raw)] = recorder.envelopes
    assert mail_from == "tracker@example.org"
    assert rcpt_tos == ["me@example.com", "you@example.net"]
    got = message_from_bytes(raw, policy=policy.default)
    assert got["Subject"] == "Tracker digest for 2026-03-02"
    assert got["From"].addresses[0].addr_spec == "tracker@example.org"
    assert [a.addr_spec for a in got["To"].addresses] == ["me@example.com", "you@example.net"]
    assert got["Message-ID"] == message_id and message_id.endswith("@example.org>")
    assert got["Date"].datetime == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

    assert got.get_content_type() == "multipart/alternative"
    plain, related = got.get_payload()
    assert plain.get_content_type() == "text/plain"  # plain first: the least preferred
    assert plain.get_content().replace("\r\n", "\n") == TEXT  # CRLF on the wire
    assert related.get_content_type() == "multipart/related"
    html_part, *image_parts = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    html = html_part.get_content()
    assert "Oil at $45 — moved +7 points" in html
    assert len(image_parts) == len(IMAGES)
    for part in image_parts:
        assert part.get_content_type() == "image/png"
        assert part.get_content_disposition() == "inline"
        assert part.get_filename().endswith(".png")
        cid = part["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        assert part.get_content() == IMAGES[cid]
    assert got.get_body(("html",)).get_content() == html  # what a mail client would show


def test_a_line_break_in_the_subject_cannot_forge_headers():
    message = build_message("t@example.org", ["me@example.com"], "Oil\r\nBcc: evil@example.com",
                            TEXT, HTML, {}, datetime(2026, 3, 2, tzinfo=UTC))
    assert message["Subject"] == "Oil Bcc: evil@example.com"
    assert "Bcc" not in message


def test_starttls_with_login_from_the_environment(smtp_server, server_tls, trust_ca, monkeypatch):
    recorder, auth = Recorder(), Authenticator("digest", "s3cret")
    port = smtp_server(recorder, tls_context=server_tls, require_starttls=True,
                       authenticator=auth, auth_required=True, auth_require_tls=True)
    _login_as(monkeypatch)

    message_id = send(_config(port, "starttls"), _message(), timeout=FAST)

    assert auth.logins == ["digest"]
    [(_from, _to, raw)] = recorder.envelopes
    assert message_from_bytes(raw, policy=policy.default)["Message-ID"] == message_id


def test_wrong_password_says_the_login_was_rejected(smtp_server, server_tls, trust_ca, monkeypatch):
    recorder = Recorder()
    port = smtp_server(recorder, tls_context=server_tls, require_starttls=True,
                       authenticator=Authenticator("digest", "s3cret"), auth_required=True)
    _login_as(monkeypatch, password="wrong")

    with pytest.raises(SendError) as caught:
        send(_config(port, "starttls"), _message(), timeout=FAST)

    assert "login" in str(caught.value) and "535" in str(caught.value)
    assert "wrong" not in str(caught.value)  # never echo the password
    assert recorder.envelopes == []


def test_username_without_password_names_the_missing_variable(monkeypatch):
    monkeypatch.setenv(USER_ENV, "digest")
    with pytest.raises(SendError) as caught:
        send(_config(_free_port()), _message(), timeout=FAST)
    assert PASSWORD_ENV in str(caught.value)


def test_untrusted_certificate_is_refused(smtp_server, server_tls, tmp_path, monkeypatch):
    port = smtp_server(Recorder(), tls_context=server_tls, require_starttls=True)
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))

    with pytest.raises(SendError) as caught:
        send(_config(port, "starttls"), _message(), timeout=FAST)

    assert "certificate verify failed for 127.0.0.1" in str(caught.value)


def test_certificate_for_another_host_is_refused(smtp_server, ca, trust_ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("smtp.example.org").configure_cert(context)
    port = smtp_server(Recorder(), ssl_context=context)

    with pytest.raises(SendError) as caught:
        send(_config(port, "ssl"), _message(), timeout=FAST)

    assert "certificate verify failed for 127.0.0.1" in str(caught.value)
    assert "mismatch" in str(caught.value).lower()


def test_implicit_tls(smtp_server, server_tls, trust_ca):
    recorder = Recorder()
    port = smtp_server(recorder, ssl_context=server_tls)

    send(_config(port, "ssl"), _message(), timeout=FAST)

    assert len(recorder.envelopes) == 1


def test_starttls_asked_but_not_offered_is_refused(smtp_server):
    recorder = Recorder()
    port = smtp_server(recorder)  # no TLS at all

    with pytest.raises(SendError) as caught:
        send(_config(port, "starttls"), _message(), timeout=FAST)

    assert "STARTTLS" in str(caught.value)
    assert recorder.envelopes == []  # never falls back to sending in clear


def test_server_down_is_said_at_once():
    port = _free_port()
    started = time.monotonic()
    with pytest.raises(SendError) as caught:
        send(_config(port), _message(), timeout=FAST)
    assert time.monotonic() - started < FAST
    assert str(caught.value) == f"SMTP server 127.0.0.1:{port} refused the connection"


def test_silent_server_times_out():
    with socket.socket() as listener:  # accepts the TCP connection, never says hello
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(SendError) as caught:
            send(_config(port), _message(), timeout=0.3)
    assert time.monotonic() - started < FAST
    assert "did not answer within 0.3s" in str(caught.value)


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "554 5.7.1 Rejected"])
def test_a_refused_message_quotes_the_reply(smtp_server, reply):
    port = smtp_server(Recorder(data_reply=reply))
    with pytest.raises(SendError) as caught:
        send(_config(port), _message(), timeout=FAST)
    assert str(caught.value) == f"SMTP server 127.0.0.1:{port} said {reply}"


@pytest.mark.parametrize("reply", ["450 4.2.1 Mailbox busy", "550 5.1.1 No such user"])
def test_every_recipient_refused(smtp_server, reply):
    port = smtp_server(Recorder(rcpt_replies={"me@example.com": reply}))
    with pytest.raises(SendError) as caught:
        send(_config(port), _message(), timeout=FAST)
    assert "me@example.com" in str(caught.value) and reply in str(caught.value)


def test_some_recipients_refused_still_counts_as_sent(smtp_server, caplog):
    recorder = Recorder(rcpt_replies={"gone@example.com": "550 5.1.1 No such user"})
    port = smtp_server(recorder)
    to = ["me@example.com", "gone@example.com"]

    message_id = send(_config(port, to=to), _message(to=to), timeout=FAST)

    assert message_id
    assert [rcpt for _f, rcpt, _raw in recorder.envelopes] == [["me@example.com"]]
    assert "gone@example.com" in caplog.text and "550" in caplog.text
