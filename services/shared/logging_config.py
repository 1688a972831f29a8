"""The seed's path of ``crypto_observability.shared.logging_config``: the same module object, not a copy."""

import sys

from crypto_observability.shared import logging_config

sys.modules[__name__] = logging_config
