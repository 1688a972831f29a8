"""A loopback stand-in for the Telegram Bot API, with simulated users, faults and a traffic driver."""

from .errors import ApiError
from .simulator import DEFAULT_TOKEN, TelegramSimulator
from .threaded import ThreadedTelegramSimulator
from .traffic import (
    DEFAULT_MIX,
    PlannedMessage,
    TrafficReport,
    drive_traffic,
    make_users,
    plan_traffic,
)
from .users import SimulatedUser, command_entities

__all__ = [
    "DEFAULT_MIX",
    "DEFAULT_TOKEN",
    "ApiError",
    "PlannedMessage",
    "SimulatedUser",
    "TelegramSimulator",
    "ThreadedTelegramSimulator",
    "TrafficReport",
    "command_entities",
    "drive_traffic",
    "make_users",
    "plan_traffic",
]
