"""The StructuredLogger's typed events: one method, one stable event name, documented fields.

docs/events.md is the catalogue of these methods; a test keeps the two in step.
"""

from __future__ import annotations

from typing import Any

from .timing import Timed

DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
_SEVERITY_LEVEL = {"low": INFO, "medium": WARNING, "high": ERROR, "critical": CRITICAL}


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class EventMethods:
    """Typed events on top of log(); mixed into StructuredLogger."""

    _level: int

    def log(self, level: int, message: str, context: dict[str, Any], *, event: str | None = None,
            error: Any = None) -> None:
        raise NotImplementedError

    def _mask_user(self, identity: object) -> str:
        raise NotImplementedError

    def _is_secret_key(self, key: str) -> bool:
        raise NotImplementedError

    def timed(self, operation: str, **context: Any) -> Timed:
        """Time a block or decorate a function: logs response_time_ms and success, re-raises errors."""
        return Timed(self, operation, context)

    def performance_metric(self, name: str, value: float, unit: str, **context: Any) -> None:
        """Record one measured value (memory, queue depth, throughput) with its unit."""
        if self._level <= INFO:
            self.log(INFO, f"metric {name}={value}{unit}", {"name": name, "value": value, "unit": unit, **context},
                     event="performance_metric")

    def api_request(self, method: str, path: str, **context: Any) -> None:
        """An outgoing call to another API is starting."""
        if self._level <= DEBUG:
            self.log(DEBUG, f"{method} {path}", {"method": method, "path": path, **context}, event="api_request")

    def api_response(self, method: str, path: str, status_code: int, response_time_ms: float, **context: Any) -> None:
        """An outgoing call returned; success means a status below 400."""
        success = status_code < 400
        level = INFO if success else (WARNING if status_code < 500 else ERROR)
        if self._level <= level:
            self.log(level, f"{method} {path} -> {status_code}",
                     {"method": method, "path": path, "status_code": status_code,
                      "response_time_ms": response_time_ms, "success": success, **context}, event="api_response")

    def http_request(self, method: str, path: str, status_code: int, response_time_ms: float,
                     level: int | None = None, **context: Any) -> None:
        """One served HTTP request: the line the ASGI middleware writes (path is the route template)."""
        chosen = level if level is not None else (INFO if status_code < 500 else ERROR)
        if self._level <= chosen:
            self.log(chosen, f"{method} {path} {status_code}",
                     {"method": method, "path": path, "status_code": status_code,
                      "response_time_ms": response_time_ms, **context}, event="http_request")

    def business_event(self, name: str, **context: Any) -> None:
        """Something the business cares about happened (a signal, an opportunity, a signup)."""
        if self._level <= INFO:
            self.log(INFO, name.replace("_", " "), {"name": name, **context}, event="business_event")

    def security_event(self, kind: str, severity: str = "medium", **context: Any) -> None:
        """Authentication failures, unauthorised commands, suspicious rates: for the audit and the monitor."""
        level = _SEVERITY_LEVEL.get(severity, WARNING)
        self.log(max(level, WARNING), f"security: {kind.replace('_', ' ')}",
                 {"kind": kind, "severity": severity, **context}, event="security_event")

    def audit(self, action: str, actor: object, target: str, outcome: str, **context: Any) -> None:
        """The audit trail: who (masked) did what to what, and how it ended."""
        self.log(INFO, f"audit: {action} {target} {outcome}",
                 {"action": action, "actor": self._mask_user(actor), "target": target, "outcome": outcome, **context},
                 event="audit")

    def cache_operation(self, operation: str, key: str, hit: bool | None = None, **context: Any) -> None:
        """A cache get/set/evict; hit says whether a get found its value."""
        if self._level <= DEBUG:
            self.log(DEBUG, f"cache {operation} {key}", {"operation": operation, "key": key, **_given(hit=hit),
                                                         **context}, event="cache_operation")

    def database_query(self, operation: str, table: str, response_time_ms: float, rows: int | None = None,
                       success: bool = True, **context: Any) -> None:
        """One database statement with its timing (never its parameters)."""
        level = DEBUG if success else ERROR
        if self._level <= level:
            self.log(level, f"db {operation} {table}", {"operation": operation, "table": table,
                                                        "response_time_ms": response_time_ms, "success": success,
                                                        **_given(rows=rows), **context}, event="database_query")

    def health_check(self, component: str, healthy: bool, **context: Any) -> None:
        """A component's health, good (DEBUG) or bad (WARNING)."""
        level = DEBUG if healthy else WARNING
        if self._level <= level:
            self.log(level, f"{component} {'healthy' if healthy else 'unhealthy'}",
                     {"component": component, "healthy": healthy, **context}, event="health_check")

    def config_change(self, key: str, old: Any, new: Any, actor: object | None = None, **context: Any) -> None:
        """A setting changed at run time; secret settings show only that they changed."""
        if self._is_secret_key(key):
            old, new = ("***" if old is not None else None), "***"
        fields = {"key": key, "old": old, "new": new, **context}
        if actor is not None:
            fields["actor"] = self._mask_user(actor)
        self.log(WARNING, f"config {key} changed", fields, event="config_change")

    def rate_limit_hit(self, scope: str, limit: int | None = None, retry_after: float | None = None,
                       **context: Any) -> None:
        """We were throttled, or throttled someone: scope says who (exchange, user, telegram)."""
        if self._level <= WARNING:
            self.log(WARNING, f"rate limit hit ({scope})",
                     {"scope": scope, **_given(limit=limit, retry_after=retry_after), **context},
                     event="rate_limit_hit")

    def dependency_call(self, dependency: str, operation: str, success: bool, response_time_ms: float,
                        **context: Any) -> None:
        """A call to something we depend on (market-data from the bot, Redis, an exchange)."""
        level = INFO if success else WARNING
        if self._level <= level:
            self.log(level, f"{dependency} {operation} {'ok' if success else 'failed'}",
                     {"dependency": dependency, "operation": operation, "success": success,
                      "response_time_ms": response_time_ms, **context}, event="dependency_call")

    def user_action(self, action: str, **context: Any) -> None:
        """A user did something (the user comes from the bound context, masked)."""
        if self._level <= INFO:
            self.log(INFO, f"user {action}", {"action": action, **context}, event="user_action")
