"""Documents to plain text: Markdown as written, PDF through pdfium (fast, offline, no models)."""

from __future__ import annotations

from pathlib import Path

from taxolab.documents.errors import DocumentError

TEXT_SUFFIXES = (".md", ".markdown", ".txt")


def convert_to_text(path: Path) -> str:
    """The text of a Markdown or PDF document, with ``\\n`` line ends and pages separated by a blank line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        try:
            return path.read_text(encoding="utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError:
            raise DocumentError(f"{path}: not UTF-8 text") from None
        except OSError as exc:
            raise DocumentError(f"{path}: cannot read: {exc.strerror}") from None
    if suffix == ".pdf":
        return pdf_text(path)
    raise DocumentError(f"{path}: cannot read {suffix or 'extension-less'} files; Markdown and PDF only")


def pdf_text(path: Path) -> str:
    """Text of every page, in reading order as pdfium extracts it."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise DocumentError(f"{path}: not a readable PDF ({exc})") from None
    pages: list[str] = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n").strip())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return "\n\n".join(p for p in pages if p)
