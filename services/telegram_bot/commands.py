"""The bot's commands: /start, /help and the five market-data questions.

A user's mistake (no symbol, a symbol nobody lists) is answered here in plain words and
logged as a failed bot_command; anything else (market-data down) goes to the error handler.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from .error_handler import classification
from .events import BotEvents, CommandTimer
from .formatting import FORMATTERS
from .gate import command_of
from .market_client import BadSymbol, MarketDataClient, UnknownSymbol, normalise_symbol

TIMEFRAMES = ("5m", "15m", "1h", "4h", "1d")
Body = Callable[[CommandTimer], Awaitable[None]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class MarketCommand:
    """A command that asks market-data one question about one symbol."""

    name: str
    endpoint: str
    what: str


MARKET_COMMANDS = (
    MarketCommand("price", "price", "the price on each exchange"),
    MarketCommand("oi", "oi", "open interest across exchanges"),
    MarketCommand("volume", "volume", "24h trading volume across exchanges"),
    MarketCommand("analysis", "indicators", "RSI, MACD, EMA and Bollinger bands (optional timeframe: 1h, 4h, 1d)"),
    MarketCommand("longshort", "long-short", "the long/short account ratio"),
)

WELCOME = "👋 Hi {name}! I answer questions about crypto markets across several exchanges.\n\n"
UNKNOWN_COMMAND = "I don't know the command /{command}. Send /help to see what I can do."
NOT_A_COMMAND = "I answer commands. Send /help to see them, for example /price BTC."


def help_text() -> str:
    """The list of commands with one example each."""
    lines = ["Commands:"]
    lines += [f"/{c.name} SYMBOL - {c.what}" for c in MARKET_COMMANDS]
    lines += ["/help - this list", "", "Symbols: BTC, ETH, SOL ... or a pair like ETH/USDT. Example: /price BTC"]
    return "\n".join(lines)


def usage(command: MarketCommand) -> str:
    """The plain-words answer to a command sent without its symbol."""
    extra = " [TIMEFRAME]" if command.endpoint == "indicators" else ""
    return f"Please tell me which coin: /{command.name} SYMBOL{extra}, for example /{command.name} BTC"


class Commands:
    """Builds the PTB handlers for every command, sharing one market-data client."""

    def __init__(self, market: MarketDataClient, events: BotEvents) -> None:
        self.market = market
        self.events = events

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        """Every handler, the catch-alls for unknown commands and plain text last."""
        found: list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]] = [
            CommandHandler("start", self.start), CommandHandler("help", self.help)]
        found += [CommandHandler(c.name, self._asker(c)) for c in MARKET_COMMANDS]
        found += [MessageHandler(filters.COMMAND, self.unknown),
                  MessageHandler(filters.TEXT & ~filters.COMMAND, self.not_a_command)]
        return found

    async def timed(self, name: str, context: ContextTypes.DEFAULT_TYPE, body: Body) -> None:
        """Run a command under its timer; a failure marks bot_command and goes on to the error handler.

        The error handler writes the one classified ERROR line (with the traceback) and tells
        the user, so bot_command itself only says the command failed and in which category.
        """
        failure: Exception | None = None
        with self.events.command(name, context.args or ()) as run:
            try:
                await body(run)
            except Exception as exc:
                run.fail(classification(exc)[0])
                failure = exc
        if failure is not None:
            raise failure

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greet the user and list the commands."""
        name = update.effective_user.first_name if update.effective_user else "there"
        await self.timed("start", context, lambda run: _reply(update, WELCOME.format(name=name) + help_text()))

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """List the commands."""
        await self.timed("help", context, lambda run: _reply(update, help_text()))

    async def unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a command the bot does not have."""
        name = (command_of(update) or "")[:32]

        async def answer(run: CommandTimer) -> None:
            run.fail("unknown_command")
            await _reply(update, UNKNOWN_COMMAND.format(command=name))

        await self.timed("unknown", context, answer)

    async def not_a_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Point plain text at /help."""
        await _reply(update, NOT_A_COMMAND)

    def _asker(self, command: MarketCommand) -> Handler:
        async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            args = list(context.args or [])
            await self.timed(command.name, context, lambda run: self._ask(command, run, update, args))

        ask.__doc__ = f"Answer /{command.name} with {command.what}."
        return ask

    async def _ask(self, command: MarketCommand, run: CommandTimer, update: Update, args: list[str]) -> None:
        if not args:
            run.fail("missing_argument")
            return await _reply(update, usage(command))
        try:
            symbol = normalise_symbol(args[0])
        except BadSymbol:
            run.fail("bad_symbol")
            return await _reply(update, f"“{args[0][:20]}” doesn't look like a coin symbol. {usage(command)}")
        params = {}
        if command.endpoint == "indicators":
            timeframe = args[1].lower() if len(args) > 1 else "1h"
            if timeframe not in TIMEFRAMES:
                run.fail("bad_timeframe")
                return await _reply(update, f"Timeframe must be one of {', '.join(TIMEFRAMES)}, e.g. /analysis BTC 4h")
            params["timeframe"] = timeframe
        try:
            data = await self.market.get(command.endpoint, symbol, **params)
        except UnknownSymbol:
            run.fail("unknown_symbol")
            return await _reply(update, f"I couldn't find {symbol} on any exchange. Check the spelling, "
                                        "for example /price BTC or /price ETH/USDT.")
        await self._answer(command, update, data)

    async def _answer(self, command: MarketCommand, update: Update, data: dict[str, object]) -> None:
        start = time.perf_counter()
        text = FORMATTERS[command.endpoint](data)
        self.events.message_formatted(command.name, (time.perf_counter() - start) * 1000.0, len(text))
        await _reply(update, text)


async def _reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(text)
