"""A webhook receiver on 127.0.0.1 that keeps every notification log-monitor sends during the demo."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class AlertReceiver:
    """Collects webhook notifications (Alertmanager-shaped JSON) in memory."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with contextlib.suppress(ValueError):
                    receiver.alerts.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:  # keep the demo's terminal clean
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/alerts"

    def open_alerts(self) -> set[str]:
        """Alerts whose latest notification says firing."""
        state: dict[str, str] = {}
        for note in list(self.alerts):
            for alert in note.get("alerts", []):
                key = json.dumps(alert.get("labels", {}), sort_keys=True)
                state[key] = str(alert.get("status"))
        return {key for key, status in state.items() if status == "firing"}

    def start(self) -> AlertReceiver:
        """Serve in a daemon thread."""
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
