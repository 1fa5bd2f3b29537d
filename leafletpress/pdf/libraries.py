"""WeasyPrint's C libraries (GLib, Pango, HarfBuzz, fontconfig), found without a compiler.

WeasyPrint asks for each library under its Windows and macOS names first. On Linux each
name that is not found makes ``ctypes.util.find_library`` run ``ldconfig``, then ``gcc``
and ``ld``: 85 processes and 0.2 s at every start of a process that renders (the
CLI's one leaflet, each batch's workers, the web's worker). Importing this module imports
WeasyPrint with ``find_library`` asking the linker's cache only, as ctypes itself does
first; other threads meanwhile (a web server's) get ctypes' own. Nothing is lost: a library
only ``gcc`` or ``ld`` would find is one ``dlopen`` finds by the file name WeasyPrint tries
last (``libpango-1.0.so.0``).
"""

from __future__ import annotations

import ctypes.util
import sys
import threading

_IMPORTING = threading.get_ident()
_ctypes_own = ctypes.util.find_library


def _find_library(name: str) -> str | None:
    if threading.get_ident() != _IMPORTING:
        return _ctypes_own(name)
    return ctypes.util._findSoname_ldconfig(name)  # type: ignore[attr-defined, no-any-return]


if "weasyprint" not in sys.modules and hasattr(ctypes.util, "_findSoname_ldconfig"):
    ctypes.util.find_library = _find_library
    try:
        import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = _ctypes_own
