"""Stage 3, HTML and PDF: a personalisation becomes a tagged PDF.

Takes a ``Personalisation`` and the project's templates and styles; gives HTML (``compose``:
Jinja2, autoescaped, no WeasyPrint), QR codes as SVG (``qr``), and PDF bytes from the warm
``Renderer`` (``render``), written as PDF/UA-1 or PDF/A-1b (``standards``), its structure
tree finished for screen readers (``structure``); patients who share a text are written as
one PDF and split into their own leaflets (``split``).

Guarantees: rendering reads only the project's own assets and ``data:`` URIs, never the
network; patient values are escaped, never evaluated; the same patients made together give
the same bytes, and a leaflet shows the same whoever it was made with. Only ``render``,
``standards`` and ``structure`` import WeasyPrint (``render`` first, through ``libraries``,
which finds its C libraries without a compiler), so ``check`` and ``list`` start fast.
"""
