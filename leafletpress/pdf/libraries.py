"""WeasyPrint's C libraries (GLib, Pango, HarfBuzz, fontconfig), found without a compiler.

WeasyPrint asks for each library under its Windows and macOS names first. On Linux each
name that is not found makes ``ctypes.util.find_library`` run ``ldconfig``, then ``gcc``
and ``ld``: some 200 processes and 0.2 s at every start of a process that renders (the
CLI's one leaflet, each batch's workers, the web's worker). Importing this module imports
WeasyPrint with ``find_library`` asking the linker's cache only, as ctypes itself does
first. Nothing is lost: a library only ``gcc`` or ``ld`` would find is one ``dlopen`` finds
by the file name WeasyPrint tries last (``libpango-1.0.so.0``).
"""

from __future__ import annotations

import ctypes.util
import sys

if "weasyprint" not in sys.modules and hasattr(ctypes.util, "_findSoname_ldconfig"):
    _original = ctypes.util.find_library
    ctypes.util.find_library = ctypes.util._findSoname_ldconfig
    try:
        import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = _original
