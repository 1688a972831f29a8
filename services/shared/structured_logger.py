"""The seed's path of ``crypto_observability.shared.structured_logger``: the same module object, not a copy."""

import sys

from crypto_observability.shared import structured_logger

sys.modules[__name__] = structured_logger
