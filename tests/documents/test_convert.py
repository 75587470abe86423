"""Documents to text: Markdown as written, PDF through pdfium, clear errors for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.documents import DocumentError, convert_to_text

from .conftest import make_pdf


def test_markdown_is_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "doc.md"
    path.write_bytes(b"# Title\r\n\r\n*Emphasis* and [a link](x).\r\n")
    assert convert_to_text(path) == "# Title\n\n*Emphasis* and [a link](x).\n"


def test_pdf_text_is_extracted_page_by_page(tmp_path: Path) -> None:
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    path = tmp_path / "two-pages.pdf"
    with PdfPages(path) as pdf:
        for words in ("Zebu cattle are humped.", "They tolerate heat well."):
            figure = Figure()
            figure.text(0.1, 0.5, words)
            pdf.savefig(figure)
    assert convert_to_text(path) == "Zebu cattle are humped.\n\nThey tolerate heat well."


def test_single_page_pdf_keeps_line_order(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "guide.pdf", ["First line.", "Second line."])
    assert convert_to_text(path).splitlines() == ["First line.", "Second line."]


def test_broken_pdf_and_other_formats_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(DocumentError, match=rf"^{broken}: not a readable PDF"):
        convert_to_text(broken)
    word = tmp_path / "doc.docx"
    word.write_bytes(b"PK")
    with pytest.raises(
        DocumentError, match=r"cannot read .docx files; use Markdown, plain text \(.txt, .rst, .adoc\) or PDF"
    ):
        convert_to_text(word)
    latin = tmp_path / "latin.md"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DocumentError, match="not UTF-8 text"):
        convert_to_text(latin)
