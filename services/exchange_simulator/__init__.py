"""Local stand-in for the exchanges' public REST and WebSocket APIs (binanceusdm, bybit, okx).

Run it with `python -m services.exchange_simulator --port N`, or in-process with `SimulatorServer`
(async) or `ThreadedSimulator` (sync). Point ccxt at it with `client.make_exchange(id, base_url)`
(the client module imports ccxt; this package's core does not).
"""

from crypto_observability.shared.testing import FakeClock

from .faults import KINDS, Fault, FaultError
from .instruments import COINS, VENUES
from .market_model import MarketModel
from .server import SimulatorServer, ThreadedSimulator

__all__ = [
    "COINS",
    "KINDS",
    "VENUES",
    "FakeClock",
    "Fault",
    "FaultError",
    "MarketModel",
    "SimulatorServer",
    "ThreadedSimulator",
]
