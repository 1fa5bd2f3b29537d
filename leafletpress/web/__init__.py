"""The secretaries' web app: a front end on top of the engine (Django 5.2).

Takes: what a signed-in user types or uploads in the browser (one patient's form, a clinic
day's list). Gives: pages in Dutch that show the leaflet as images, the PDFs, a day's print
files and manifest. Guarantees: it only parses input and calls the engine (the same Renderer,
day-list reader, planner and batch as the CLI); every page but sign-in needs an account whose
role allows it; files are served only through views that check that (never a static path or
a guessable URL) with ``Cache-Control: no-store``; no patient name in a URL, a log line or a
file name; every sign-in, leaflet, day and download is an audit event (append-only). A day runs
in the worker (django-tasks), never inside a request.
"""
