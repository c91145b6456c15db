"""A real HTTP server on loopback that replays recorded API responses.

Routes map a path (and optionally required query parameters) to a recorded body file,
a status and a content type, or to a function of the query that picks recorded bodies
(as Gamma's ``/markets?slug=a&slug=b`` answers with just the markets asked for). Anything unrouted gets a 404 with a plain body, and every
request is logged so tests can check what was asked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).with_name("fixtures")


@dataclass
class Reply:
    body: bytes
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0  # seconds before answering, for slow-server tests
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Retry-After
    drip: float = 0.0  # seconds between bytes of the body: a server that never quite stalls
    drip_for: float = 15.0  # a dripping reply gives up (closes) after this long

    @classmethod
    def file(
        cls, relative: str, status: int = 200, content_type: str | None = None, delay: float = 0.0
    ) -> Reply:
        path = FIXTURES / relative
        if content_type is None:
            content_type = "text/csv" if path.suffix == ".csv" else "application/json"
        return cls(path.read_bytes(), status, content_type, delay)


class ReplayServer:
    def __init__(self):
        self.routes: list[tuple[str, dict[str, str], object]] = []
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                reply = server.match(self.path)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if reply.drip:
                    self._drip(reply)
                else:
                    self.wfile.write(reply.body)

            def _drip(self, reply: Reply) -> None:
                stop = time.monotonic() + reply.drip_for
                try:
                    for byte in reply.body:
                        if time.monotonic() > stop:
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(reply.drip)
                except OSError:  # the client gave up: what the test wants
                    return

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # shutdown() waits for serve_forever to look at its flag, once a poll_interval: the
        # default half second would be spent at the end of every test that serves replies.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, reply: Reply | Callable[[dict[str, list[str]]], Reply], **query: str):
        self.routes.append((path, query, reply))

    def match(self, raw_path: str) -> Reply:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        every = parse_qs(parts.query)
        query = {k: v[0] for k, v in every.items()}
        for route_path, wanted, reply in self.routes:
            if route_path == path and all(query.get(k) == v for k, v in wanted.items()):
                return reply(every) if callable(reply) else reply
        return Reply(b"no route", 404, "text/plain")

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
