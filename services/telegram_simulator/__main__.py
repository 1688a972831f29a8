"""Entry point for `python -m services.telegram_simulator`."""

import sys

from .cli import main

sys.exit(main())
