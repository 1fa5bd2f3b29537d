"""Stage 1, content: the approved texts and the hospital they are printed for.

Takes ``leaflets/<slug>/<lang>.md`` (YAML front matter + Markdown), ``config/*.yaml`` and
``templates/i18n/<lang>.yaml``; gives validated objects: a ``Leaflet`` (``leaflet``), its
Markdown turned into HTML per variant with placeholders left to fill (``markup``), the
``Registry`` of hospital, sites and surgeons (``registry``), printed ``Labels`` and Babel date
formats (``labels``), and which language a person means (``languages``).

Guarantees: everything is validated on load, and every problem names its file and line or key.
"""
