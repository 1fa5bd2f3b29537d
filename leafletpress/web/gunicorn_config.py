"""gunicorn's settings for the web app (leafletpress-web.service: ``--config
python:leafletpress.web.gunicorn_config``): gunicorn's own lines in the app's log format
(logs.py), so one installation writes one format."""

import os as _os

from leafletpress.web import logs as _logs  # every other name here would be read as a setting

logconfig_dict = _logs.config(dict(_os.environ))
