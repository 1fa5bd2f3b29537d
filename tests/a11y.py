"""What a screen reader gets from a tagged PDF: our own structure checker, beside `pdfua` (16 of
PDF/UA's 106 rules) and PDFBox Preflight (PDF/A only). It checks what those two let through
and an accessible-PDF review found (issue 22):

* every marked text is in the structure tree, or an artifact; no text outside marked content;
* no paragraph or list split in two by a page break;
* no hyphen that the layout added at a line end (read aloud as "afge- sproken");
* header cells with ``/Scope``, and an ``/IDTree`` that resolves every ``/Headers`` link;
* every printed web address a link, with ``/Contents``, tagged as one ``/Link``.

``findings(pdf)`` lists what is wrong, in words; ``spoken(pdf, page)`` is the text of a page
in structure order, as a screen reader announces it.
"""

from __future__ import annotations

import ctypes
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import pikepdf
import pypdfium2 as pdfium
from pikepdf import Array, Dictionary, Name

_MARKED = re.compile(rb"/[A-Za-z]+\s*<</MCID (\d+)>>\s*BDC")
_SENTENCE_END = (".", "?", "!", ":", ";", ")", "”", "»")


@dataclass
class Node:
    element: Any
    role: str
    page: int | None
    kids: list[Node | tuple[int, int]] = field(default_factory=list)  # (page, MCID)


def texts(pdf: bytes) -> dict[tuple[int, int], str]:
    """(page, MCID) -> the text that marked content shows (pdfium's text objects)."""
    document = pdfium.PdfDocument(pdf)
    found: dict[tuple[int, int], str] = {}
    for number in range(len(document)):
        page = document[number]
        text_page = page.get_textpage()
        for item in page.get_objects():
            if item.type != pdfium.raw.FPDF_PAGEOBJ_TEXT:
                continue
            mcid = pdfium.raw.FPDFPageObj_GetMarkedContentID(item.raw)
            size = pdfium.raw.FPDFTextObj_GetText(item.raw, text_page.raw, None, 0)
            buffer = (ctypes.c_ushort * (size // 2))()
            pdfium.raw.FPDFTextObj_GetText(item.raw, text_page.raw, buffer, size)
            text = bytes(buffer).decode("utf-16-le").rstrip("\x00")
            if mcid >= 0:
                found[number, mcid] = found.get((number, mcid), "") + text
    return found


def tree(document: Any) -> Node:
    """The structure tree from its root, with each marked-content kid's page."""
    pages = {page.obj.objgen: n for n, page in enumerate(document.pages)}

    def page_of(element: Any) -> int | None:
        return pages.get(element.Pg.objgen) if "/Pg" in element else None

    def build(element: Any) -> Node:
        node = Node(element, str(element.S), page_of(element))
        kids = element.get("/K")
        for kid in kids if isinstance(kids, Array) else [kids] if kids is not None else []:
            if isinstance(kid, int):
                node.kids.append((node.page, int(kid)))  # type: ignore[arg-type]
            elif isinstance(kid, Dictionary) and "/S" in kid:
                node.kids.append(build(kid))
            elif isinstance(kid, Dictionary) and kid.get("/Type") == Name.MCR:
                node.kids.append((pages[kid.Pg.objgen], int(kid.MCID)))
        return node

    return build(document.Root.StructTreeRoot.K[0])


def walk(node: Node) -> Iterator[Node]:
    yield node
    for kid in node.kids:
        if isinstance(kid, Node):
            yield from walk(kid)


def marks(node: Node) -> Iterator[tuple[int, int]]:
    """The marked content under ``node``, in structure order."""
    for kid in node.kids:
        yield from marks(kid) if isinstance(kid, Node) else [kid]


def text_of(node: Node, shown: dict[tuple[int, int], str]) -> str:
    return "".join(shown.get(mark, "") for mark in marks(node))


def spoken(pdf: bytes, page: int = 0) -> str:
    """The text of ``page`` in structure order, a line per element that means something
    (spans and wrappers count as their parent): 'TH: Patiënt', 'TD: Marie Peeters'."""
    shown = texts(pdf)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        root = tree(document)
    lines: list[tuple[int, str, list[str]]] = []  # (owner, role, texts)
    wrappers = ("/Span", "/NonStruct", "/Div", "/Part", "/Sect", "/Document")

    def say(node: Node, owner: Node) -> None:
        if node.role not in wrappers:
            owner = node
        for kid in node.kids:
            if isinstance(kid, Node):
                say(kid, owner)
            elif kid[0] == page and shown.get(kid, "").strip():
                if not lines or lines[-1][0] != id(owner):
                    lines.append((id(owner), owner.role[1:], []))
                lines[-1][2].append(" ".join(shown[kid].split()))

    say(root, root)
    return "\n".join(f"{role}: {' '.join(words)}" for _, role, words in lines)


def findings(pdf: bytes, source: str = "") -> list[str]:
    """What keeps a screen reader from the text, in words; empty when nothing does.
    ``source``: the texts the PDF was made from, where a hyphen that breaks a line may stand
    ("Présentez-vous"): the PDF itself cannot tell it from one the layout added."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        if "/StructTreeRoot" not in document.Root:
            return ["untagged: no structure tree"]
        root = tree(document)
        shown = texts(pdf)
        found = _outside_the_tree(document, root)
        found += _split(root, shown) + _hyphens(root, shown, source)
        found += _table_headers(document, root) + _links(document, root, shown)
    return found


def _outside_the_tree(document: Any, root: Node) -> list[str]:
    found = []
    reached = set(marks(root))
    for number, page in enumerate(document.pages):
        contents = page.obj.Contents
        streams = contents if isinstance(contents, Array) else [contents]
        data = b"".join(stream.read_bytes() for stream in streams)
        for match in _MARKED.finditer(data):
            if (number, int(match.group(1))) not in reached:
                found.append(f"page {number + 1}: MCID {match.group(1)} is neither in the tree "
                             "nor an artifact")  # fmt: skip
        depth = 0
        for _operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            depth += {"BDC": 1, "BMC": 1, "EMC": -1}.get(op, 0)
            if op in ("Tj", "TJ", "'", '"') and depth == 0:
                found.append(f"page {number + 1}: text outside marked content")
                break
    return found


def _split(root: Node, shown: dict[tuple[int, int], str]) -> list[str]:
    """The text cut page by page (a /Part each), or an element that a page break cut in two:
    where the text goes on over a page, the elements that hold it before and after differ
    from some depth on. Below it, a list on both sides is a list cut in two (a box's list as
    well as a list); a paragraph whose sentence goes on is one too."""
    parts = [kid for kid in root.kids if isinstance(kid, Node) and kid.role == "/Part"]
    found = [f"the text is cut into {len(parts)} /Part elements"] if len(parts) > 1 else []
    reading: list[tuple[tuple[int, int], list[Node]]] = []

    def read(node: Node, chain: list[Node]) -> None:
        nonlocal reading
        for kid in node.kids:
            if isinstance(kid, Node):
                read(kid, [*chain, kid])
            elif shown.get(kid, "").strip():
                reading.append((kid, chain))

    # The text (every /Part, in order), and each other top element on its own: positioned
    # elements (the example mark) stand between a page's text and the next's in the tree.
    sequences: dict[int, list[tuple[tuple[int, int], list[Node]]]] = {}
    for kid in root.kids:
        if isinstance(kid, Node):
            reading = []
            read(kid, [root, kid])
            sequences.setdefault(0 if kid.role == "/Part" else id(kid), []).extend(reading)
    transitions = [pair for marks in sequences.values() for pair in pairwise(marks)]
    for (mark, before), (after_mark, after) in transitions:
        if after_mark[0] != mark[0] + 1:
            continue  # not the text going on over a page break
        depth = next((i for i, (a, b) in enumerate(zip(before, after, strict=False))
                      if a is not b), min(len(before), len(after)))  # fmt: skip
        # From there down, the pairs of elements of the same kind: the parts of one element
        pairs = []
        for a, b in zip(before[depth:], after[depth:], strict=False):
            if a.role != b.role:
                break
            pairs.append((a, b))
        if any(a.role == "/L" for a, _ in pairs):
            found.append(f"page {after_mark[0] + 1}: a list cut in two by the page break")
        for a, _ in pairs:
            ending = text_of(a, shown).rstrip()
            if a.role == "/P" and not ending.endswith(_SENTENCE_END):
                found.append(f"page {after_mark[0] + 1}: a paragraph cut in two by the page "
                             f"break (…{ending[-30:]!r})")  # fmt: skip
    return found


def _hyphens(root: Node, shown: dict[tuple[int, int], str], source: str) -> list[str]:
    """A line that ends in a hyphen its next line's word continues, where the source has no
    hyphen: one the layout added (pdfium shows a line-end hyphen as \\x02)."""
    found = []
    for node in walk(root):
        lines = [text_of(kid, shown) if isinstance(kid, Node) else shown.get(kid, "")
                 for kid in node.kids]  # fmt: skip
        for line, after in pairwise(lines):
            end, start = re.search(r"(\w+)[-\x02\u2010]$", line), re.match(r"[a-zà-ÿ]\w*", after)
            if end and start and f"{end.group(1)}-{start.group(0)}" not in source:
                found.append(f"a hyphen at a line end: {line[-20:]!r} + {after[:20]!r}")
    return found


def _table_headers(document: Any, root: Node) -> list[str]:
    found = []
    ids = {}
    for node in walk(root):
        if "/ID" in node.element:
            ids[bytes(node.element.ID)] = node.element
        if node.role == "/TH" and "/Scope" not in node.element.get("/A", {}):
            found.append("a header cell without /Scope")
    tree_ids = document.Root.StructTreeRoot.get("/IDTree")
    named = set()
    if tree_ids is not None:
        names = tree_ids.get("/Names", [])
        named = {bytes(names[i]) for i in range(0, len(names), 2)}
    for node in walk(root):
        for header in node.element.get("/A", {}).get("/Headers", []):
            if bytes(header) not in named:
                found.append(f"/Headers {bytes(header)!r} not in the /IDTree")
    return sorted(set(found))


_URL = re.compile(r"https?://\S+")


def _address(link: Node) -> str | None:
    kids = link.element.get("/K")
    for kid in kids if isinstance(kids, Array) else [kids]:
        if isinstance(kid, Dictionary) and kid.get("/Type") == Name.OBJR and "/A" in kid.Obj:
            return str(kid.Obj.A.get("/URI", "")) or None
    return None


def _links(document: Any, root: Node, shown: dict[tuple[int, int], str]) -> list[str]:
    found = []
    linked = {mark for node in walk(root) if node.role == "/Link" for mark in marks(node)}
    for node in walk(root):
        for kid in node.kids:
            if isinstance(kid, tuple) and _URL.search(shown.get(kid, "")) and kid not in linked:
                found.append(f"page {kid[0] + 1}: a web address that is no link: "
                             f"{shown[kid].strip()[:40]!r}")  # fmt: skip
    for node in walk(root):
        links = [k for k in node.kids if isinstance(k, Node) and k.role == "/Link"]
        addresses = [_address(link) for link in links]
        for first, second in pairwise(addresses):
            if first is not None and first == second:
                found.append(f"one address read as several links: {first}")
    for number, page in enumerate(document.pages):
        for annotation in page.obj.get("/Annots", []):
            if annotation.get("/Subtype") == Name.Link and not annotation.get("/Contents"):
                found.append(f"page {number + 1}: a link without /Contents")
            if "/StructParent" not in annotation:
                found.append(f"page {number + 1}: a link that is not in the tree")
    return found
