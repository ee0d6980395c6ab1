"""The QR code on an invite: what it says and the PNG that says it."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import qrcode
from qrcode.image.pil import PilImage

JOIN_URI = "pingan://join"


def invite_qr_payload(code: str) -> str:
    """What the app reads from the QR code: it opens the join screen and posts the code to /api/v1/alliance-joins."""
    return f"{JOIN_URI}?{urlencode({'code': code})}"


def qr_png(payload: str) -> bytes:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(payload)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(image_factory=PilImage).save(buffer, format="PNG")
    return buffer.getvalue()
