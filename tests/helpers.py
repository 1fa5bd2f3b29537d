"""Test helpers: readers for real PDFs, the example visit, and small file edits.

Imported by the tests as ``from helpers import ...``; fixtures live in conftest.py.
"""

from __future__ import annotations

import io
import math
import re
import socket
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pypdfium2 as pdfium
import zxingcpp

ROOT = Path(__file__).resolve().parent.parent
VISIT_DATE = date(2026, 12, 15)  # a Tuesday
# The moment every test runs at (conftest.py): a Wednesday three weeks before VISIT_DATE.
KNOWN_NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Europe/Brussels"))
MM_PER_PT = 25.4 / 72


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def visit_fields(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": "Marie Peeters",
        "reference": "PAT-0042",
        "birth_date": date(1958, 3, 12),
        "leaflet": "avn-hip",
        "variant": "heupprothese",
        "surgeon": "wouters",
        "site": "augustinus",
        "date": VISIT_DATE,
        "time": time(8, 30),
    }
    fields.update(overrides)
    return fields


def page_texts(pdf: bytes) -> list[str]:
    """Text per page, as pdfium extracts it (pypdf garbles some WeasyPrint fonts)."""
    document = pdfium.PdfDocument(pdf)
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def normalise(text: str) -> str:
    """Undo hyphenation and line breaks, so phrases can be searched for."""
    text = text.replace("\r", "").replace("\ufffe", "")  # pdfium marks hyphenation with U+FFFE
    text = text.replace("-\n", "-")  # a real hyphen at a line end: "Çelik-\nO'Brien"
    # A comma never starts a line: under the example watermark pdfium breaks the line between
    # a bold phone number and the comma after it ("03 000 10 01\r\n, als je").
    text = text.replace("\n,", ",")
    return re.sub(r"\s+", " ", text).strip()


def all_text(pdf: bytes) -> str:
    return normalise("\n".join(page_texts(pdf)))


def decode_qr_codes(pdf: bytes, page: int = 0, dpi: int = 150) -> list[str]:
    image = pdfium.PdfDocument(pdf)[page].render(scale=dpi / 72).to_pil()
    return sorted(result.text for result in zxingcpp.read_barcodes(image))


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [
        (
            round(float(p.mediabox.width) * MM_PER_PT, 1),
            round(float(p.mediabox.height) * MM_PER_PT, 1),
        )
        for p in reader.pages
    ]


def content(pdf: bytes) -> tuple[list[str], list[tuple[float, float]], set[str]]:
    """What a PDF shows, whatever its bytes: each page's text, each page's size, and its
    fonts (without the subset tag, 'ABCDEF+')."""
    fonts = {name.split("+")[-1] for name in embedded_fonts(pdf)}
    return page_texts(pdf), page_sizes_mm(pdf), fonts


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Font name -> whether its font program is embedded in the file."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts: dict[str, bool] = {}
    for page in reader.pages:
        for ref in (page["/Resources"].get("/Font") or {}).values():
            font = ref.get_object()
            descriptors = [font.get("/FontDescriptor")]
            descriptors += [
                d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])
            ]
            embedded = any(
                d is not None
                and any(k in d.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                for d in descriptors
            )
            fonts[str(font["/BaseFont"])] = embedded
    return fonts


def edit(path: Path, old: str, new: str) -> None:
    """Change a copied project file; the text to replace must be there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# One leaflet through the CLI, before the operation (`made`).
LEAFLET = [
    "leaflet", "avn-hip", "--variant", "heupprothese", "--site", "cadix", "--surgeon", "claes",
    "--date", "15/12/2026", "--time", "8u30", "--patient", "X",
]  # fmt: skip


def made(cli, project: Path, args: list[str], out_dir: Path, *more: str) -> tuple[bytes, str]:
    """`generate.py --project PROJECT ARGS --out-dir OUT_DIR MORE`: the PDF it wrote (it must
    succeed) and what it said on standard error."""
    code, out, err = cli("--project", str(project), *args, "--out-dir", str(out_dir), *more)
    assert code == 0, err
    return Path(out.strip()).read_bytes(), err


def sign_off_policy(project: Path) -> None:
    """Sign off every hospital policy setting of a copied project for the value it has."""
    path = project / "config" / "hospital.yaml"
    text = re.sub(
        r"(    value: (\S+)\n)    signed_off:\n",
        r'\1    signed_off: {by: "dr. Pieter Claes", when: 2026-12-10, value: \2}\n',
        path.read_text(encoding="utf-8"),
    )
    path.write_text(text, encoding="utf-8")


def real_config(project: Path) -> None:
    """A copied project whose configuration is no longer example data: its leaflets carry no
    VOORBEELD and may be emailed (config/email.yaml apart)."""
    for name in ("hospital.yaml", "sites.yaml", "surgeons.yaml"):
        edit(project / "config" / name, "example: true\n", "")
    sign_off_policy(project)


def font_sizes(pdf: bytes) -> dict[float, int]:
    """Printed size in points -> number of characters, over every page (pypdf's visitor gives
    the font size with the text and page matrices applied)."""
    sizes: dict[float, int] = {}
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:

        def visit(text, cm, tm, font, size) -> None:
            if text.strip():
                scale = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
                key = round(size * scale, 1)
                sizes[key] = sizes.get(key, 0) + len(text.strip())

        page.extract_text(visitor_text=visit)
    return sizes
