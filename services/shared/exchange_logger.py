"""The seed's path of ``crypto_observability.shared.exchange_logger``: the same module object, not a copy."""

import sys

from crypto_observability.shared import exchange_logger

sys.modules[__name__] = exchange_logger
