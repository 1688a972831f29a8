"""The package's public surface."""

from __future__ import annotations

import services.telegram_simulator as tgsim


def test_public_names() -> None:
    """__all__ is exactly the documented public API, sorted."""
    assert tgsim.__all__ == [
        "DEFAULT_MIX", "DEFAULT_TOKEN", "ApiError", "PlannedMessage", "SimulatedUser", "TelegramSimulator",
        "ThreadedTelegramSimulator", "TrafficReport", "command_entities", "drive_traffic", "make_users",
        "plan_traffic",
    ]
    assert all(hasattr(tgsim, name) for name in tgsim.__all__)
