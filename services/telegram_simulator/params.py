"""Typed access to Bot API parameters, whichever encoding the client chose (query, form, multipart, JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .errors import bad_request


async def read_params(request: web.Request) -> Params:
    """Merge query-string and body parameters the way the Bot API accepts them."""
    values: dict[str, Any] = dict(request.query)
    ctype = request.content_type
    if request.can_read_body:
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise bad_request("can't parse JSON request body") from exc
            if not isinstance(body, dict):
                raise bad_request("JSON request body must be an object")
            values.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                # uploaded files are accepted and ignored: the simulator keeps no media
                values[key] = value if isinstance(value, str) else None
    return Params(values)


class Params:
    """Parameter values that may be strings (form) or native JSON values (JSON body)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = {k: v for k, v in values.items() if v is not None}

    def raw(self) -> dict[str, Any]:
        """Return the parameters as received, for the call log."""
        return dict(self._values)

    def has(self, name: str) -> bool:
        """Tell whether the parameter was sent."""
        return name in self._values

    def get_str(self, name: str, default: str | None = None) -> str | None:
        """Return a string parameter, or default when absent."""
        value = self._values.get(name, default)
        return value if value is None or isinstance(value, str) else json.dumps(value)

    def required_str(self, name: str, missing: str) -> str:
        """Return a string parameter or fail with Telegram's wording for its absence."""
        value = self.get_str(name)
        if value is None or value == "":
            raise bad_request(missing)
        return value

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """Return an integer parameter, or default when absent."""
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified: {value!r} is not an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified: {value!r} is not an integer") from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        """Return a boolean parameter; Telegram accepts true/false, 1/0 and JSON booleans."""
        value = self._values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0", ""):
            return False
        raise bad_request(f"invalid {name} specified: {value!r} is not a boolean")

    def get_json(self, name: str) -> Any:
        """Return a JSON-valued parameter (sent as a JSON string in forms, natively in JSON bodies)."""
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
