"""The seed's import path (`services.shared...`) keeps working in this repository, as the installed library itself."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", ["logging_config", "structured_logger", "exchange_logger"])
def test_seed_module_path_is_the_library_module(module: str) -> None:
    """`services.shared.<module>` is the very module `crypto_observability.shared.<module>`: one state."""
    seed = importlib.import_module(f"services.shared.{module}")
    assert seed is importlib.import_module(f"crypto_observability.shared.{module}")


def test_seed_names_are_the_library_names() -> None:
    """The seed's examples (`from services.shared.logging_config import ...`) give the library's objects."""
    import crypto_observability.shared as library
    from services.shared import Redactor
    from services.shared.logging_config import setup_service_logging
    from services.shared.structured_logger import create_structured_logger

    assert (setup_service_logging, create_structured_logger, Redactor) == (
        library.setup_service_logging, library.create_structured_logger, library.Redactor)
