"""Entry point for ``python3 -m coinseg_train``."""

import sys

from .cli import main

sys.exit(main())
