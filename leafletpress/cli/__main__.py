"""`python -m leafletpress.cli`: the same command line as generate.py."""

import sys

from . import main

sys.exit(main())
