"""The Safe Store certificate (平安门店证书): a one-page PDF with the store, the period, its place among the Safe
Stores, the issuing police station and the date.

The Chinese text is set in Noto Serif SC, which the project installs as a Python package
(``pylopdf-fonts-zh-cn``, requirements.txt), never a font of the machine: the same glyphs on every server, and the
font travels inside the PDF (fpdf2 embeds a subset of it, the CFF outlines of the characters used only: a
certificate is some 15 kB and is made in about 0.3 s, most of it reading the font). A character the font lacks
would print as nothing (fpdf2 logs a warning naming it; the tests check the PDF's text and every glyph it draws).

The certificate is bilingual by design, Chinese with an English line under each part: it is a document that is
handed over and framed, the same for every reader, so its words are not translated per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pylopdf_fonts_zh_cn

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_FAMILY = "NotoSerifSC"
PAGE_WIDTH_MM = 297  # A4 landscape
PAGE_HEIGHT_MM = 210
MARGIN_MM = 20
FRAME_RED = (178, 34, 34)


@cache
def certificate_font_path() -> Path:
    return pylopdf_fonts_zh_cn.serif_path()


@dataclass(frozen=True)
class CertificateContent:
    store_name: str
    year: int
    half: int  # 1: January-June, 2: July-December
    place: int  # among the Safe Stores of the ranking, 1..10
    station_name: str
    issued_on: date

    @property
    def period_zh(self) -> str:
        return f"{self.year}年{'上' if self.half == 1 else '下'}半年"

    @property
    def period_en(self) -> str:
        return f"{'first' if self.half == 1 else 'second'} half of {self.year}"

    @property
    def place_zh(self) -> str:
        return f"第{self.place}名"

    @property
    def issued_on_zh(self) -> str:
        return f"{self.issued_on.year}年{self.issued_on.month}月{self.issued_on.day}日"


def _centred(pdf: FPDF, text: str, *, size: float, height: float, colour=(0, 0, 0), fit: bool = False) -> None:
    """One centred line; with ``fit`` the size shrinks until the line fits the page (a long store name)."""
    width = PAGE_WIDTH_MM - 2 * MARGIN_MM - 10
    pdf.set_font(FONT_FAMILY, size=size)
    while fit and size > 12 and pdf.get_string_width(text) > width:
        size -= 2
        pdf.set_font(FONT_FAMILY, size=size)
    pdf.set_text_color(*colour)
    pdf.cell(0, height, text, align="C", new_x="LMARGIN", new_y="NEXT")


def safe_store_certificate_pdf(content: CertificateContent) -> bytes:
    """The certificate as PDF bytes (A4 landscape), the font embedded as a subset."""
    # Imported here, not at module level: fpdf2 (with fontTools) costs every process a quarter of a second at start-up
    # (the admin and the tasks import this module), and only the certificate task and the download use it.
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"平安门店证书 {content.store_name} {content.period_zh}")
    pdf.set_author(content.station_name)
    pdf.set_creator("Ping'an Alliance")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.add_font(FONT_FAMILY, fname=str(certificate_font_path()))
    pdf.add_page()

    # A double red frame, as on a printed certificate.
    pdf.set_draw_color(*FRAME_RED)
    pdf.set_line_width(1.6)
    pdf.rect(10, 10, PAGE_WIDTH_MM - 20, PAGE_HEIGHT_MM - 20)
    pdf.set_line_width(0.4)
    pdf.rect(14, 14, PAGE_WIDTH_MM - 28, PAGE_HEIGHT_MM - 28)

    lines = [
        ("平安门店", 48, 24, FRAME_RED, False),
        ("Safe Store", 16, 9, FRAME_RED, False),
        ("", 10, 8, (0, 0, 0), False),
        (content.store_name, 30, 16, (0, 0, 0), True),
        (f"在{content.period_zh}平安门店评选中荣获{content.place_zh}", 18, 11, (0, 0, 0), False),
        (f"Ranked No. {content.place} of the Safe Stores, {content.period_en}", 12, 8, (80, 80, 80), False),
        ("特发此证，以资鼓励。", 16, 12, (0, 0, 0), False),
        ("", 10, 10, (0, 0, 0), False),
        (f"颁发单位：{content.station_name}", 16, 10, (0, 0, 0), True),
        (f"颁发日期：{content.issued_on_zh}", 16, 10, (0, 0, 0), False),
        (f"Issued by {content.station_name} on {content.issued_on.isoformat()}", 11, 7, (80, 80, 80), True),
    ]
    pdf.set_y(30)
    for text, size, height, colour, fit in lines:
        _centred(pdf, text, size=size, height=height, colour=colour, fit=fit)

    return bytes(pdf.output())
