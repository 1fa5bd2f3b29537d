"""`leafletpress-web`: Django's command line for the web app (migrate, werk, hervat, maak_account,
opruimen, …), the same as `python manage.py` in a checkout, for an installed wheel.

A setting that is missing or wrong ends the command with its message only (exit status 2)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leafletpress.web.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv or sys.argv)
    except ImproperlyConfigured as exc:  # a setting from the environment: its message only
        print(f"instelling: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
