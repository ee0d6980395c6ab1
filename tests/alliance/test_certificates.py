"""The Safe Store certificate is a PDF whose Chinese text a person can read: the text is there exactly, and every
character is drawn by a glyph of the font embedded in the file (a PDF with tofu, boxes or blanks for missing glyphs,
fails). The last test proves the check catches one: the same certificate set in a Latin-only font."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fontTools import subset
from fontTools.cffLib import CFFFontSet
from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

from alliance import certificates
from alliance.certificates import CertificateContent, safe_store_certificate_pdf

CONTENT = CertificateContent(
    store_name="凤鸣金街·张记麻辣烫",
    year=2026,
    half=1,
    place=3,
    station_name="奉贤区南桥派出所",
    issued_on=date(2026, 7, 3),
)


# --- reading a PDF back ----------------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """The text as PDFium (Chrome's PDF engine) reads it from the page."""
    document = pdfium.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def inkless_characters(data: bytes, scale: float = 2) -> list[str]:
    """The characters PDFium places on the page but whose box stays blank when the page is rendered (a glyph that
    draws nothing)."""
    blank = []
    for page in pdfium.PdfDocument(data):
        image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
        height = page.get_height()
        text_page = page.get_textpage()
        for index in range(text_page.count_chars()):
            char = text_page.get_text_range(index=index, count=1)
            if not char or char.isspace():
                continue
            left, bottom, right, top = text_page.get_charbox(index)
            box = (
                int(left * scale),
                int((height - top) * scale),
                int(right * scale) + 1,
                int((height - bottom) * scale) + 1,
            )
            darkest, _lightest = image.crop(box).getextrema()
            if darkest > 160:
                blank.append(char)
    return blank


def _to_unicode(cmap: bytes) -> dict[int, str]:
    """The character codes of a ToUnicode CMap and the text each stands for (bfchar and bfrange sections)."""
    text = cmap.decode("latin-1")
    mapping: dict[int, str] = {}
    for section in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for code, unicode in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", section):
            mapping[int(code, 16)] = bytes.fromhex(unicode).decode("utf-16-be")
    for section in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for first, last, start in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", section):
            base = int(start, 16)
            for offset, code in enumerate(range(int(first, 16), int(last, 16) + 1)):
                mapping[code] = chr(base + offset)
    return mapping


def _code_to_cid(encoding) -> Callable[[int], int]:
    """A Type0 font's encoding: Identity (code = CID), or an embedded CMap's cidchar and cidrange sections."""
    if not hasattr(encoding, "get_data"):
        assert encoding in ("/Identity-H", "/Identity-V"), encoding
        return lambda code: code
    text = encoding.get_data().decode("latin-1")
    mapping: dict[int, int] = {}
    for section in re.findall(r"begincidchar(.*?)endcidchar", text, re.S):
        for code, cid in re.findall(r"<([0-9A-Fa-f]+)>\s*(\d+)", section):
            mapping[int(code, 16)] = int(cid)
    for section in re.findall(r"begincidrange(.*?)endcidrange", text, re.S):
        for first, last, cid in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\d+)", section):
            for offset, code in enumerate(range(int(first, 16), int(last, 16) + 1)):
                mapping[code] = int(cid) + offset
    return lambda code: mapping.get(code, 0)


def _cff_glyph_draws(font_program: bytes) -> Callable[[int], bool]:
    """CID -> whether the embedded CFF font draws something for it (not .notdef, not an empty outline)."""
    fonts = CFFFontSet()
    fonts.decompile(io.BytesIO(font_program), None)
    top = fonts[fonts.fontNames[0]]
    names = list(top.charset)
    is_cid_keyed = hasattr(top, "ROS")
    by_cid = {int(name[3:]): name for name in names if name.startswith("cid")} if is_cid_keyed else {}

    def draws(cid: int) -> bool:
        name = by_cid.get(cid) if is_cid_keyed else (names[cid] if cid < len(names) else None)
        if name is None or name == ".notdef":
            return False
        pen = ControlBoundsPen(None)
        top.CharStrings[name].draw(pen)
        return pen.bounds is not None

    return draws


def _truetype_glyph_draws(font_program: bytes, cid_to_gid: bytes | None) -> Callable[[int], bool]:
    font = TTFont(io.BytesIO(font_program))
    order = font.getGlyphOrder()

    def draws(cid: int) -> bool:
        gid = cid if cid_to_gid is None else int.from_bytes(cid_to_gid[2 * cid : 2 * cid + 2], "big")
        if gid == 0 or gid >= len(order):
            return False
        return font["glyf"][order[gid]].numberOfContours != 0

    return draws


def _codes_shown(page, reader) -> dict[str, set[int]]:
    """Per font resource, the two-byte character codes the page's text operators show."""
    shown: dict[str, set[int]] = defaultdict(set)
    font = None
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"Tf":
            font = operands[0]
            continue
        if operator in (b"Tj", b"'", b'"'):
            strings = [operands[-1]]
        elif operator == b"TJ":
            strings = [item for item in operands[0] if isinstance(item, str | bytes)]
        else:
            continue
        for string in strings:
            raw = string.original_bytes if hasattr(string, "original_bytes") else bytes(string)
            shown[font].update(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
    return shown


def missing_glyphs(data: bytes) -> list[str]:
    """Every character code the PDF shows whose glyph in the embedded font draws nothing (.notdef, an empty glyph,
    a CID outside the font) or that stands for no readable character, and every font not embedded, as readable
    notes; empty for a document a person can read."""
    problems = []
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for font_name, codes in _codes_shown(page, reader).items():
            font = fonts[font_name].get_object()
            if font["/Subtype"] != "/Type0":
                problems.append(f"{font_name}: a simple font ({font['/BaseFont']}), not an embedded CID font")
                continue
            cid_font = font["/DescendantFonts"][0].get_object()
            descriptor = cid_font["/FontDescriptor"].get_object()
            if "/FontFile3" in descriptor:
                draws = _cff_glyph_draws(descriptor["/FontFile3"].get_object().get_data())
            elif "/FontFile2" in descriptor:
                mapping = cid_font.get("/CIDToGIDMap")
                stream = None if mapping is None or mapping == "/Identity" else mapping.get_object().get_data()
                draws = _truetype_glyph_draws(descriptor["/FontFile2"].get_object().get_data(), stream)
            else:
                problems.append(f"{font_name}: font not embedded")
                continue
            cid_of = _code_to_cid(font["/Encoding"].get_object())
            text_of = _to_unicode(font["/ToUnicode"].get_object().get_data())
            for code in sorted(codes):
                text = text_of.get(code, "")
                if not text or not text.isprintable():
                    problems.append(f"{font_name}: code {code} stands for no readable character ({text!r})")
                elif not text.isspace() and not draws(cid_of(code)):
                    problems.append(f"{font_name}: no glyph for {text!r} (code {code})")
    return problems


def assert_readable_certificate(data: bytes, content: CertificateContent) -> None:
    text = pdf_text(data)
    for expected in ("平安门店", content.store_name, "2026年上半年", "第3名", content.station_name, "2026年7月3日"):
        assert expected in text, f"{expected!r} is not in the certificate's text: {text!r}"
    assert missing_glyphs(data) == []
    assert inkless_characters(data) == []


# --- the tests -------------------------------------------------------------------------------------------------------


def test_the_certificate_reads_in_chinese_with_every_glyph_embedded():
    # when a certificate is made
    data = safe_store_certificate_pdf(CONTENT)

    # then its text names the store, the title, the period, the place, the station and the date, exactly
    text = pdf_text(data)
    assert "平安门店" in text and "Safe Store" in text
    assert "凤鸣金街·张记麻辣烫" in text
    assert "在2026年上半年平安门店评选中荣获第3名" in text
    assert "颁发单位：奉贤区南桥派出所" in text
    assert "颁发日期：2026年7月3日" in text
    # and every character is drawn by a glyph of the embedded font, which leaves ink on the rendered page
    assert missing_glyphs(data) == []
    assert inkless_characters(data) == []


def test_the_font_is_embedded_as_a_subset_and_the_file_is_small():
    # when a certificate is made
    data = safe_store_certificate_pdf(CONTENT)

    # then its one font is a subset (its name carries the subset tag) of the packaged Noto Serif SC, and the file is
    # a few kilobytes, not the font's 11 MB
    fonts = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"]
    names = {font.get_object()["/BaseFont"] for font in fonts.values()}
    assert len(names) == 1 and re.fullmatch(r"/[A-Z]{6}\+NotoSerifSC", names.pop())
    assert len(data) < 100_000


def test_the_second_half_year_and_a_long_name_read_too():
    # given a store with a long name, ranked first in the second half of the year
    content = CertificateContent(
        store_name="凤鸣金街南桥镇百年老字号鲜肉月饼专卖店（旗舰店）",
        year=2025,
        half=2,
        place=1,
        station_name="上海市公安局奉贤分局南桥派出所",
        issued_on=date(2026, 1, 5),
    )

    # when its certificate is made, then everything reads
    data = safe_store_certificate_pdf(content)
    text = pdf_text(data)
    assert "2025年下半年" in text and "第1名" in text and content.store_name in text.replace("\n", "")
    assert missing_glyphs(data) == []


def _font_cut_down(tmp_path, text: str, blank: str = "") -> Path:
    """The certificate's font cut down to the characters of ``text``, with the glyphs of ``blank`` emptied."""
    font = TTFont(str(certificates.certificate_font_path()))
    cutter = subset.Subsetter()
    cutter.populate(text=text)
    cutter.subset(font)
    top = font["CFF "].cff.topDictIndex[0]
    cmap = font.getBestCmap()
    for char in blank:
        top.CharStrings[cmap[ord(char)]].program = ["endchar"]
    path = tmp_path / "cut-down.otf"
    font.save(str(path))
    return path


ASCII = "".join(chr(code) for code in range(32, 127))


def test_a_certificate_set_in_a_latin_only_font_fails_the_check(tmp_path, monkeypatch):
    # given the font of a server without Chinese glyphs
    latin_only = _font_cut_down(tmp_path, ASCII)
    monkeypatch.setattr(certificates, "certificate_font_path", lambda: latin_only)

    # when the certificate is made, then its Chinese text is missing and the check fails
    data = safe_store_certificate_pdf(CONTENT)
    assert "平安门店" not in pdf_text(data)
    with pytest.raises(AssertionError):
        assert_readable_certificate(data, CONTENT)


def test_a_certificate_whose_glyphs_draw_nothing_fails_the_check(tmp_path, monkeypatch):
    # given a font that maps the title's characters to glyphs that draw nothing
    every_char = ASCII + pdf_text(safe_store_certificate_pdf(CONTENT))
    hollow = _font_cut_down(tmp_path, every_char, blank="平安门店")
    monkeypatch.setattr(certificates, "certificate_font_path", lambda: hollow)

    # when the certificate is made
    data = safe_store_certificate_pdf(CONTENT)

    # then its text still reads, yet the glyph check names the four characters and the page shows no ink for them
    assert "平安门店" in pdf_text(data)
    assert sorted({problem.split("'")[1] for problem in missing_glyphs(data)}) == sorted("平安门店")
    assert set(inkless_characters(data)) == set("平安门店")
    with pytest.raises(AssertionError):
        assert_readable_certificate(data, CONTENT)
