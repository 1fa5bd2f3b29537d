#!/usr/bin/env python3
"""leafletpress: personalised patient leaflets. Run `python generate.py --help`."""

import sys

from leafletpress.cli import main

if __name__ == "__main__":
    sys.exit(main())
