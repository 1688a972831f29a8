"""Test helpers shipped with log-monitor: a real webhook endpoint that records what it is sent.

It also answers GET (e.g. a health endpoint for `http_check`) with `get_status`, which a test may change.

with WebhookReceiver() as hook:          # http://127.0.0.1:<free port>/hook
    ...point a webhook channel at hook.url...
    hook.arrived.wait(5)
    hook.payloads()                      # the JSON notifications, in arrival order
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    """Answers 200 to every POST and keeps its headers and raw body; answers GET with `get_status`."""

    def __init__(self, path: str = "/hook", host: str = "127.0.0.1", hold: threading.Event | None = None) -> None:
        """`host` 0.0.0.0 makes it reachable from containers; `hold`: when given, each POST is answered only once
        it is set (a slow receiver, up to 60 s)."""
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()
        self.entered = threading.Event()
        self.paths: list[str] = []  # the request path of each POST, in arrival order
        self.get_status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(receiver.get_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.entered.set()
                if hold is not None:
                    hold.wait(60)
                receiver.paths.append(self.path)
                receiver.received.append((dict(self.headers.items()), body))
                receiver.arrived.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep test and demo output clean
                return

        self._server = ThreadingHTTPServer((host, 0), Handler)  # host 0.0.0.0: reachable from containers
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}{path}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def bodies(self) -> list[bytes]:
        """The raw bodies, in arrival order."""
        return [body for _, body in self.received]

    def payloads(self) -> list[dict[str, Any]]:
        """The bodies that are JSON objects, parsed."""
        out = []
        for body in self.bodies:
            try:
                parsed = json.loads(body)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                out.append(parsed)
        return out

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
