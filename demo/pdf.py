"""A small, valid PDF written from text lines: the demo's draft plan, uploaded as a real file.

One page of Helvetica text (WinAnsi, so French accents show), with a correct cross-reference
table, so readers and the upload's content check (storage/kinds.py) take it as a PDF.
"""

from __future__ import annotations


def _text(value: str) -> bytes:
    escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("cp1252", "replace")


def pdf_of(title: str, lines: tuple[str, ...]) -> bytes:
    """A one-page A4 PDF: `title` in bold, then `lines`."""
    stream = b"BT /F2 16 Tf 56 780 Td (" + _text(title) + b") Tj ET\n"
    y = 748
    for line in lines:
        stream += b"BT /F1 11 Tf 56 %d Td (" % y + _text(line) + b") Tj ET\n"
        y -= 16
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + _text(title) + b") /Producer (Parvis demo) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, len(objects), xref)
    return bytes(out)
