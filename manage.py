#!/usr/bin/env python3
"""Django's command line for the web app: migrate, runserver, werk, maak_account, ... (installed:
`leafletpress-web`)."""

import sys

from leafletpress.web.manage import main

if __name__ == "__main__":
    sys.exit(main())
