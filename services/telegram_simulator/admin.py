"""/_admin/* endpoints: drive users, read replies, arm faults and start traffic from another process."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .server import SIM_KEY
from .traffic import make_users
from .users import SimulatedUser


def add_admin_routes(app: web.Application) -> None:
    """Mount the admin endpoints on the simulator's application."""
    app.router.add_get("/_admin/health", health)
    app.router.add_get("/_admin/messages", messages)
    app.router.add_get("/_admin/wait_for_reply", wait_for_reply)
    app.router.add_post("/_admin/send", send)
    app.router.add_get("/_admin/calls", calls)
    app.router.add_post("/_admin/faults", arm_fault)
    app.router.add_delete("/_admin/faults", clear_faults)
    app.router.add_get("/_admin/webhook", webhook)
    app.router.add_get("/_admin/users", users)
    app.router.add_get("/_admin/stats", stats)
    app.router.add_post("/_admin/traffic", start_traffic)
    app.router.add_get("/_admin/traffic", traffic_status)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _fail(error: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    return body


async def health(request: web.Request) -> web.Response:
    """Liveness and the bot's identity, for a demo waiting on start-up."""
    sim = request.app[SIM_KEY]
    return _ok({"bot": sim.bot_user, "pending_updates": len(sim.queue.pending)})


async def messages(request: web.Request) -> web.Response:
    """What the bot sent: to one chat (?chat_id=N) or to every chat by id."""
    sim = request.app[SIM_KEY]
    chat_id = request.query.get("chat_id")
    if chat_id is None:
        return _ok({str(k): v for k, v in sim.chats.all_messages().items()})
    try:
        return _ok(sim.messages_for(int(chat_id)))
    except ValueError:
        return _fail(f"chat_id must be an integer, got {chat_id!r}")


async def wait_for_reply(request: web.Request) -> web.Response:
    """Long-poll ?chat_id=N&count=K&timeout=S until the bot sent N at least K messages; 408 on timeout."""
    sim = request.app[SIM_KEY]
    try:
        chat_id = int(request.query["chat_id"])
        count = int(request.query.get("count", "1"))
        timeout = float(request.query.get("timeout", "5"))
    except (KeyError, ValueError):
        return _fail("chat_id (int) is required; count (int) and timeout (seconds) are optional")
    if not 0 < timeout <= 60:
        return _fail(f"timeout must be > 0 and <= 60 seconds, got {timeout}")
    try:
        return _ok(await sim.wait_for_reply(chat_id, count, timeout))
    except TimeoutError as exc:
        return _fail(str(exc), status=408)


async def send(request: web.Request) -> web.Response:
    """Have a user ({"user": {...}, "text": ...}) type to the bot; answers the queued Update."""
    sim = request.app[SIM_KEY]
    try:
        body = await _body(request)
        user = SimulatedUser.from_dict(body.get("user"))  # type: ignore[arg-type]
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty string, got {text!r}")
        return _ok(sim.send_text(user, text))
    except (ValueError, TypeError) as exc:
        return _fail(str(exc))


async def calls(request: web.Request) -> web.Response:
    """The Bot API call log, optionally for one method (?method=sendMessage)."""
    sim = request.app[SIM_KEY]
    method = request.query.get("method")
    return _ok(sim.calls_of(method) if method else list(sim.calls))


async def arm_fault(request: web.Request) -> web.Response:
    """Arm {"kind": "429", "retry_after": N, "count": K} or {"kind": "5xx", "status": 502, "count": K}."""
    sim = request.app[SIM_KEY]
    try:
        body = await _body(request)
        kind, count, methods = str(body.get("kind")), body.get("count", 1), body.get("methods")
        if kind == "429":
            sim.inject_429(body.get("retry_after", 1), count, methods)
        elif kind == "5xx":
            sim.inject_5xx(body.get("status", 502), count, methods)
        else:
            raise ValueError(f"fault kind {kind!r} is not supported; allowed: '429', '5xx'")
    except ValueError as exc:
        return _fail(str(exc))
    return _ok({"armed": sim.faults.armed})


async def clear_faults(request: web.Request) -> web.Response:
    """Disarm every fault."""
    request.app[SIM_KEY].faults.clear()
    return _ok({"armed": 0})


async def webhook(request: web.Request) -> web.Response:
    """The webhook configuration, last error and delivery log."""
    return _ok(request.app[SIM_KEY].webhook_info())


async def users(request: web.Request) -> web.Response:
    """Every user who has a chat with the bot."""
    sim = request.app[SIM_KEY]
    return _ok([{**u.user_dict(), "role": u.role} for u in sim.chats.users.values()])


async def stats(request: web.Request) -> web.Response:
    """Totals for a demo's summary: updates, replies, chats, calls by method and status."""
    return _ok(request.app[SIM_KEY].stats())


async def start_traffic(request: web.Request) -> web.Response:
    """Start {"duration_s", "rate_per_s", "users", "seed"} of traffic in the background."""
    sim = request.app[SIM_KEY]
    if sim.traffic["state"] == "running":
        return _fail("traffic is already running", status=409)
    try:
        body = await _body(request)
        duration, rate = float(body.get("duration_s", 60)), float(body.get("rate_per_s", 2))
        population = make_users(int(body.get("users", 12)))
        seed = int(body.get("seed", 1))
    except (ValueError, TypeError) as exc:
        return _fail(str(exc))
    sim.start_traffic(population, duration, rate, seed)
    return _ok({"state": "running", "users": [{**u.user_dict(), "role": u.role} for u in population]})


async def traffic_status(request: web.Request) -> web.Response:
    """Whether traffic is idle, running, finished (with its report) or failed."""
    return _ok(dict(request.app[SIM_KEY].traffic))
