"""leafletpress: approved leaflet content + a visit -> a personalised, print-ready PDF.

The packages are the pipeline, in the order data flows through them; each imports only the
ones before it (checked by import-linter in ``make lint``):

``common``    errors, project folders and editions, validation, safe file writes
``content``   1. leaflets, markup, the hospital's registry, labels and languages
``visit``     2. the visit, its personalisation and derived times; day lists and their plan
``pdf``       3. HTML (Jinja2) and PDF (WeasyPrint): the warm Renderer, QR codes, standards
``printing``  4. print files for duplex printers, folded booklets
``day``       5. a clinic day: parallel, resumable rendering, print files per campus, manifest
``mail``      6. email to patients, with the send log
``feed``      the hospital system's appointment messages (HL7 v2, FHIR) as day-list rows
``check``     validates all content and configuration (uses every stage, changes nothing)
``cli``       the command line: parses input, calls the stages, prints results
``web``       the secretaries' web app (Django): forms and uploads in, pages and files out
"""

__version__ = "0.3.0"  # the one place: pyproject.toml reads it; CHANGELOG.md and a git tag
