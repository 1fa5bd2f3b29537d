"""QR codes as PNG images, embedded as data: URIs so rendering fetches nothing.

Each module is a square of whole pixels, black or white (no grey), and the stylesheet lays
the image out with ``image-rendering: pixelated`` (leaflet.css), which WeasyPrint writes as
/Interpolate false: printers and viewers enlarge the pixels as squares, as sharp as vector
paths. An image is drawn once per PDF however many pages show it, where an SVG is parsed
and drawn again on every page (5 ms a leaflet).
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import qrcode
import qrcode.constants
from PIL import Image

QUIET_ZONE = 4  # modules of white border, as the QR standard requires
PIXELS_PER_MODULE = 10  # sharp even in a viewer that smooths enlarged images


def _png(matrix: list[list[bool]]) -> bytes:
    size = len(matrix)
    image = Image.frombytes("L", (size, size), bytes(0 if dark else 255 for row in matrix
                                                      for dark in row))  # fmt: skip
    image = image.resize((size * PIXELS_PER_MODULE,) * 2, Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


@lru_cache(maxsize=256)
def qr_data_uri(url: str) -> str:
    """A QR code for ``url`` (error correction M, standard quiet zone).

    Cached: a clinic day reuses the same few contact and leaflet URLs for every patient.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return "data:image/png;base64," + base64.b64encode(_png(code.get_matrix())).decode("ascii")
