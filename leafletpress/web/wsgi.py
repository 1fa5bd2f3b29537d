"""WSGI entry point for gunicorn: ``gunicorn leafletpress.web.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leafletpress.web.settings")
application = get_wsgi_application()
