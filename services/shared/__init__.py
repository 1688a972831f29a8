"""The seed's import path of the logging library, kept for code written against it.

The library installs as ``crypto_observability.shared`` (a name of its own, so it never collides with another
project's ``services`` package); these modules are that library's own modules under their seed names:

    from services.shared.logging_config import setup_service_logging        # the seed's path, in this repository
    from crypto_observability.shared.logging_config import setup_service_logging   # what the wheel installs
"""

from __future__ import annotations

from typing import Any

from crypto_observability import shared as _library


def __getattr__(name: str) -> Any:
    """Give the library's public names (``services.shared.Redactor`` is ``crypto_observability.shared.Redactor``)."""
    return getattr(_library, name)
