"""One request's whole path across services as a timeline: when each step ran, how long, where it broke.

A step is one record of the request. A record that carries ``context.response_time_ms`` closes a timed
operation (the library logs it when the operation ends), so that step ran from its time minus the
duration to its time; other steps are instants. The timeline starts at the earliest step start. The
slowest step is the journeys analysis's (the step after the longest gap); the failure is the first step
at ERROR or above or with ``success`` false; exchange calls are the ``exchange_api_call`` steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from crypto_observability.log_analyzer.journeys import slowest_step
from crypto_observability.log_analyzer.search_output import clean_text

_LEVELS_FAILED = ("ERROR", "CRITICAL")
BAR = 36


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def step_from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields of a record that a trace shows (the journeys analysis's step shape, plus exchange)."""
    context = record.get("context") if isinstance(record.get("context"), Mapping) else {}
    assert isinstance(context, Mapping)
    rt = context.get("response_time_ms")
    step = {"time": record.get("timestamp"), "service": record.get("service"), "event": record.get("event"),
            "level": record.get("level"), "message": record.get("message"),
            "response_time_ms": float(rt) if isinstance(rt, int | float) and not isinstance(rt, bool) else None,
            "success": context.get("success") if isinstance(context.get("success"), bool) else None,
            "user": record.get("user")}
    if record.get("event") == "exchange_api_call" or "exchange" in context:
        step["exchange"] = {k: context.get(k) for k in ("exchange", "method", "symbol", "success",
                                                        "response_time_ms", "error_type") if k in context}
    return step


def build_trace(request_id: str, steps: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Return the timeline of one request from its steps (records' ``step_from_record`` or journeys' steps)."""
    ordered = sorted((dict(s) for s in steps if s.get("time")), key=lambda s: s["time"])
    if not ordered:
        return {"request_id": request_id, "found": False, "steps": [], "exchange_calls": []}
    ends = [_moment(s["time"]) for s in ordered]
    durations = [float(s.get("response_time_ms") or 0.0) for s in ordered]
    starts = [end - timedelta(milliseconds=d) for end, d in zip(ends, durations, strict=True)]
    origin = min(starts)
    previous = ends[0]
    for step, start, end, duration in zip(ordered, starts, ends, durations, strict=True):
        step.update(start_ms=_ms(start - origin), offset_ms=_ms(end - origin), duration_ms=round(duration, 2),
                    gap_ms=_ms(end - previous), failed=_failed(step), slowest=False)
        previous = end
    slowest = slowest_step(ordered)
    if slowest is not None and slowest["gap_ms"] <= 0:
        slowest = None  # every step at the same millisecond: nothing was slow
    if slowest is not None:
        slowest["slowest"] = True
    failure = next((s for s in ordered if s["failed"]), None)
    total = max(s["offset_ms"] for s in ordered)
    return {
        "request_id": request_id, "found": True,
        "user": next((s["user"] for s in ordered if s.get("user")), None),
        "services": list(dict.fromkeys(s["service"] for s in ordered)),
        "start": ordered[0]["time"] if origin == starts[0] else _iso(origin), "duration_ms": total,
        "failed": failure is not None, "steps": ordered,
        "slowest_step": None if slowest is None else ordered.index(slowest),
        "failure_step": None if failure is None else ordered.index(failure),
        "exchange_calls": [s["exchange"] for s in ordered
                           if s.get("exchange") and s.get("event") == "exchange_api_call"],
    }


def _ms(delta: timedelta) -> float:
    return round(delta.total_seconds() * 1000, 2)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _failed(step: Mapping[str, Any]) -> bool:
    return step.get("level") in _LEVELS_FAILED or step.get("success") is False


def _bar(start: float, end: float, total: float) -> str:
    if total <= 0:
        return "▏".ljust(BAR)
    left = min(BAR - 1, int(start / total * BAR))
    width = max(1, round((end - start) / total * BAR)) if end > start else 0
    return (" " * left + ("█" * min(width, BAR - left) if width else "▏")).ljust(BAR)


def render_trace_text(trace: Mapping[str, Any], colour: bool = False) -> str:
    """Return the terminal waterfall of a trace (sanitised: log text cannot drive the terminal)."""
    paint = (lambda code, text: f"\x1b[{code}m{text}\x1b[0m") if colour else (lambda code, text: text)
    rid = clean_text(str(trace["request_id"]))
    if not trace.get("found"):
        return f"no records with request_id {rid}\n"
    status = paint("31", "failed") if trace["failed"] else paint("32", "ok")
    lines = [paint("1", f"trace {rid}") + f"  {' → '.join(map(clean_text, trace['services']))}  "
             f"{len(trace['steps'])} steps  {trace['duration_ms']:.0f} ms  {status}",
             f"start {trace['start']}" + (f"  user {clean_text(str(trace['user']))}" if trace.get("user") else ""),
             "", f"{'offset':>9}  {'service':<13} {'event':<22} {'0':<{BAR // 2}}"
             f"{trace['duration_ms']:>{BAR - BAR // 2}.0f} ms  duration"]
    for step in trace["steps"]:
        mark = ""
        if step["failed"]:
            mark += paint("31", " ✗ failed")
        if step["slowest"]:
            mark += paint("33", f" ◀ slowest (+{step['gap_ms']:.0f} ms)")
        exchange = step.get("exchange") or {}
        detail = " ".join(clean_text(str(exchange[k])) for k in ("exchange", "method", "symbol") if exchange.get(k))
        bar = _bar(step["start_ms"], step["offset_ms"], trace["duration_ms"])
        bar = paint("31" if step["failed"] else "36", bar)
        duration = f"{step['duration_ms']:.0f} ms" if step["duration_ms"] else "-"
        event = clean_text(str(step.get("event") or step.get("level") or ""))[:22]
        lines.append(f"{'+' + format(step['offset_ms'], '.0f') + ' ms':>9}  {clean_text(str(step['service'])):<13} "
                     f"{event:<22} {bar} {duration:>8}  {detail or clean_text(str(step.get('message') or ''))[:60]}"
                     f"{mark}")
    if trace["exchange_calls"]:
        calls = ", ".join(f"{clean_text(str(c.get('exchange')))} {clean_text(str(c.get('method')))} "
                          f"{'ok' if c.get('success', True) else clean_text(str(c.get('error_type') or 'failed'))}"
                          for c in trace["exchange_calls"])
        lines.append(f"\nexchange calls: {calls}")
    return "\n".join(lines) + "\n"
