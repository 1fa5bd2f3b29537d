"""QR codes as vector SVG, embedded as data: URIs so rendering fetches nothing."""

from __future__ import annotations

import base64
from functools import lru_cache

import qrcode
import qrcode.constants

QUIET_ZONE = 4  # modules of white border, as the QR standard requires


def _svg(matrix: list[list[bool]]) -> str:
    """Each horizontal run of dark modules is one stroked line, one module thick: the same
    squares as a path per module, with a tenth of the path commands (WeasyPrint parses SVG
    paths in Python at every draw, so this keeps a leaflet fast)."""
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y + 0.5}h{x - start}")
            else:
                x += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size}mm" height="{size}mm">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path stroke="#000" stroke-width="1" stroke-linecap="butt" fill="none" '
        f'd="{"".join(runs)}"/></svg>'
    )


@lru_cache(maxsize=256)
def qr_data_uri(url: str) -> str:
    """An SVG QR code for ``url`` (error correction M, standard quiet zone).

    Cached: a clinic day reuses the same few contact and leaflet URLs for every patient.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    svg = _svg(code.get_matrix())
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("ascii")).decode("ascii")
