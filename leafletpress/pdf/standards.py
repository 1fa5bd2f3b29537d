"""The PDF standards a leaflet claims: PDF/UA-1 always (tagged, for screen readers), and
PDF/A-1b as well for the copy filed in the patient record (``--archive``).

WeasyPrint writes the structure tree, the language, the alternative texts and the PDF/A
rules; ``structure.py`` finishes the tree. This module rewrites the XMP metadata packet so
that archive validators read it: every schema in its own ``rdf:Description`` that declares
its namespace, properties as elements, and the PDF/UA identification described by a PDF/A
extension schema (PDF/A-1 allows no undeclared schemas). Both forms are valid RDF; Apache
PDFBox's Preflight, used by many archives, only reads this one.
"""

from __future__ import annotations

from xml.etree.ElementTree import SubElement, fromstring, tostring

from pikepdf import ObjectStreamMode
from weasyprint import Document
from weasyprint.pdf.metadata import NS, DocumentMetadata

from .structure import finish_tags, split_by_breaks

ACCESSIBLE = "pdf/ua-1"  # every leaflet
# PDF/A-1, level B: what an independent validator (PDFBox Preflight) confirms; the copy is
# tagged all the same, and claims PDF/UA-1. PDF/A-1 is readable by every archive.
ARCHIVE = "pdf/a-1b"
_RDF = f"{{{NS['rdf']}}}"

# PDF/A needs every schema that is not in XMP itself described in the file (ISO 19005-1, 6.7.8).
_PDFUA_SCHEMA = b"""<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" \
xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#" rdf:about="">\
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">\
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>\
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">\
<pdfaProperty:name>part</pdfaProperty:name>\
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>\
<pdfaProperty:category>internal</pdfaProperty:category>\
<pdfaProperty:description>Part of ISO 14289 the file conforms to</pdfaProperty:description>\
</rdf:li></rdf:Seq></pdfaSchema:property></rdf:li></rdf:Bag></pdfaExtension:schemas>\
</rdf:Description>"""


class _Metadata(DocumentMetadata):
    """WeasyPrint's metadata, written as described in the module docstring."""

    def generate_rdf_metadata(self, variant: str, version: int, conformance: str | None) -> bytes:
        rdf = fromstring(super().generate_rdf_metadata(variant, version, conformance))
        if variant == "a":  # an archive copy is tagged too: it claims PDF/UA-1 as well
            claim = SubElement(rdf, f"{_RDF}Description", {f"{_RDF}about": ""})
            claim.set(f"{{{NS['pdfuaid']}}}part", "1")
        descriptions = []
        for description in rdf:
            for name in [n for n in description.attrib if not n.startswith(_RDF)]:
                SubElement(description, name).text = description.attrib.pop(name)
            descriptions.append(tostring(description))  # declares the namespaces it uses
        if variant == "a":
            descriptions.append(_PDFUA_SCHEMA)
        return b'<rdf:RDF xmlns:rdf="%s">%s</rdf:RDF>' % (
            NS["rdf"].encode(),
            b"".join(descriptions),
        )


def write_pdf(document: Document, archive: bool = False, to_split: bool = False) -> bytes:
    """The document as a tagged PDF/UA-1 file, or as PDF/A-1b (also tagged) for filing, its
    structure tree finished for screen readers (structure.py). ``to_split``: written to be
    opened once per patient (split.py), with object streams as qpdf reads them fastest,
    and none in an archive copy (PDF/A-1 allows none)."""
    metadata = _Metadata()
    metadata.__dict__.update(vars(document.metadata))
    document.metadata = metadata
    variant = ARCHIVE if archive else ACCESSIBLE
    pdf: bytes = document.write_pdf(pdf_variant=variant, pdf_tags=True)
    streams = None
    if to_split:
        streams = ObjectStreamMode.disable if archive else ObjectStreamMode.generate
    return finish_tags(pdf, split_by_breaks(document), streams)
