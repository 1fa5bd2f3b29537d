"""WSGI entry point for gunicorn: ``gunicorn leafletpress.web.wsgi``.

Each gunicorn worker loads the engine (WeasyPrint, the content, the renderer: about a second)
as it starts, not at its first request: the first secretary after a restart waits no longer
than the next. Content that cannot be loaded is left to that request to report."""

import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leafletpress.web.settings")
application = get_wsgi_application()

try:
    from leafletpress.web.service import engine

    engine()
except Exception as exc:
    logging.getLogger(__name__).warning(
        "de inhoud laadt niet (%s); de eerste vraag zegt waarom", type(exc).__name__
    )
