"""Documents to plain text: Markdown and other plain-text formats as written, PDF through pdfium.

reStructuredText, AsciiDoc and plain text are read as they are, like Markdown:
their markup is light and the teacher reads it as well as Markdown's (the user
who pointed a leaf at a project's ``.rst`` docs wants those words used;
InstructLab refused them, instructlab/instructlab#2182).
"""

from __future__ import annotations

from pathlib import Path

from taxolab.documents.errors import DocumentError

TEXT_SUFFIXES = (".md", ".markdown", ".txt", ".text", ".rst", ".adoc", ".asciidoc")
PDF_SUFFIXES = (".pdf",)
DOCUMENT_SUFFIXES = (*TEXT_SUFFIXES, *PDF_SUFFIXES)
FORMATS = "Markdown, plain text (.txt, .rst, .adoc) or PDF"


def convert_to_text(path: Path) -> str:
    """The text of a document (see :data:`DOCUMENT_SUFFIXES`), ``\\n`` line ends, PDF pages split by a blank line.

    Raises :class:`DocumentError` naming ``path`` for unreadable files and other formats.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        try:
            return path.read_text(encoding="utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError:
            raise DocumentError(f"{path}: not UTF-8 text (save it as UTF-8)") from None
        except OSError as exc:
            raise DocumentError(f"{path}: cannot read: {exc.strerror}") from None
    if suffix in PDF_SUFFIXES:
        return pdf_text(path)
    raise DocumentError(f"{path}: cannot read {suffix or 'extension-less'} files; use {FORMATS}")


def pdf_text(path: Path) -> str:
    """Text of every page, in reading order as pdfium extracts it."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise DocumentError(f"{path}: not a readable PDF ({exc})") from None
    pages: list[str] = []
    index = 0
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n").strip())
            textpage.close()
            page.close()
    except pdfium.PdfiumError as exc:
        raise DocumentError(f"{path}: page {index + 1} of the PDF cannot be read ({exc})") from None
    finally:
        pdf.close()
    return "\n\n".join(p for p in pages if p)
