"""A notification target on loopback: a threaded HTTP server on a free port that records
each request (path and JSON body) and answers with the statuses it is given in turn."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class Receiver:
    def __init__(self, statuses: list[int] | None = None, default: int = 200):
        self.statuses = list(statuses or [])  # answered first, one per request
        self.default = default
        self.requests: list[tuple[str, dict]] = []  # every request, accepted or not
        self.accepted: list[dict] = []  # the bodies answered with 2xx
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw.decode("utf-8", "replace")}
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                    receiver.requests.append((self.path, body))
                    if status < 300:
                        receiver.accepted.append(body)
                answer = b'{"ok": true}' if status < 300 else b'{"error": "refused"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def json_url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def ntfy_url(self, topic: str = "tracker") -> str:
        return f"ntfy://127.0.0.1:{self.port}/{topic}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
