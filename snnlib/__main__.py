"""``python -m snnlib``: the command line (:mod:`snnlib.cli`)."""

import sys

from .cli import main

sys.exit(main())
