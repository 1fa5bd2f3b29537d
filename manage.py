#!/usr/bin/env python3
"""Django's command line for the web app: migrate, runserver, db_worker, maak_account, ..."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leafletpress.web.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:  # a setting from the environment: its message only
        sys.exit(f"instelling: {exc}")
