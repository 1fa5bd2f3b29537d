"""QR codes as vector SVG, embedded as data: URIs so rendering fetches nothing."""

from __future__ import annotations

import base64
from functools import lru_cache

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathImage


@lru_cache(maxsize=256)
def qr_data_uri(url: str) -> str:
    """An SVG QR code for ``url`` (error correction M, 4-module quiet zone).

    Cached: a clinic day reuses the same few contact and leaflet URLs for every patient.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    svg = code.make_image(image_factory=SvgPathImage).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
