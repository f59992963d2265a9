"""``python -m snnlib``: the command line (:mod:`snnlib.cli`)."""

import sys

from snnlib.cli import main

sys.exit(main())
