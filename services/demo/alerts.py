"""Which of the monitor's alerts are still open, from the notifications its webhook received."""

from __future__ import annotations

import json
from typing import Any


def open_alerts(notifications: list[dict[str, Any]]) -> set[str]:
    """Alerts (by label set) whose latest notification says firing."""
    state: dict[str, str] = {}
    for note in notifications:
        for alert in note.get("alerts", []):
            state[json.dumps(alert.get("labels", {}), sort_keys=True)] = str(alert.get("status"))
    return {labels for labels, status in state.items() if status == "firing"}
