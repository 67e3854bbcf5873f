"""The work summary as a Word document: the Markdown's headings and paragraphs, in the offices' fonts."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from reports.sections import blocks

BODY_FONT = ("FangSong", "仿宋")
HEADING_FONT = ("SimHei", "黑体")
HEADING_SIZES = {1: 20, 2: 16, 3: 14}


def _font(target: Any, names: tuple[str, str], size: int, *, bold: bool = False) -> None:
    target.font.name = names[0]
    target.font.size = Pt(size)
    target.font.bold = bold
    # Word takes Chinese glyphs from the East Asian font, not from font.name.
    target.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), names[1])


def markdown_docx(markdown: str) -> bytes:
    document: Any = docx.Document()
    _font(document.styles["Normal"], BODY_FONT, 14)
    for block in blocks(markdown):
        if block.kind == "heading":
            # Word's heading styles keep the navigation pane and the table of contents working.
            paragraph = document.add_heading(level=block.level)
            run = paragraph.add_run(block.text)
            _font(run, HEADING_FONT, HEADING_SIZES.get(block.level, 14), bold=True)
            run.font.color.rgb = RGBColor(0, 0, 0)
            if block.level == 1:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            continue
        paragraph = document.add_paragraph(block.text)
        if block.kind == "item":
            paragraph.paragraph_format.left_indent = Pt(28)
        else:
            paragraph.paragraph_format.first_line_indent = Pt(28)  # two characters, as in the offices' documents
    out = BytesIO()
    document.save(out)
    return out.getvalue()
