"""Checking and re-encoding photos people upload from their phones (group messages, store photos, case photos).

Every upload is opened with Pillow (so a renamed text file or a truncated image is refused), limited in bytes and
pixels (decompression bombs), turned upright, stripped of EXIF (phone photos carry the GPS position of whoever took
them) and re-encoded. Nothing the client sent is stored as it came.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from config.errors import ApplicationError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # a 48-megapixel phone photo is about this; beyond it decoding alone costs too much memory


@dataclass(frozen=True)
class PreparedImage:
    image: ContentFile
    thumbnail: ContentFile | None
    width: int
    height: int


def _refuse(message: str) -> ApplicationError:
    return ApplicationError("invalid_image", message, fields={"image": [message]})


def image_prepare(upload, *, max_bytes: int, max_side: int, thumbnail_side: int | None = None) -> PreparedImage:
    if upload is None:
        raise _refuse(_("Attach an image."))
    if upload.size > max_bytes:
        raise ApplicationError(
            "payload_too_large",
            _("The image is larger than %(mb)s MB.") % {"mb": max_bytes // (1024 * 1024)},
            status_code=413,
        )
    try:
        with Image.open(upload) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise _refuse(_("Send a JPEG, PNG, WEBP or GIF image."))
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse(_("The image has too many pixels."))
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as original:
            original.load()
            picture = ImageOps.exif_transpose(original).convert("RGB")
    except ApplicationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise _refuse(_("This file is not an image we can read."))

    picture.thumbnail((max_side, max_side))
    name = uuid.uuid4().hex
    thumbnail = None
    if thumbnail_side:
        small = picture.copy()
        small.thumbnail((thumbnail_side, thumbnail_side))
        thumbnail = ContentFile(_jpeg(small), name=f"{name}-thumb.jpg")
    return PreparedImage(
        image=ContentFile(_jpeg(picture), name=f"{name}.jpg"),
        thumbnail=thumbnail,
        width=picture.width,
        height=picture.height,
    )


def _jpeg(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85, optimize=True)  # no exif= argument: metadata is dropped
    return buffer.getvalue()


def image_response(field) -> FileResponse:
    """Serve a stored (re-encoded, JPEG) picture to someone the caller has already checked may see it. Private
    caching only: these are evidence and people's shops, never for a shared proxy cache."""
    if not field:
        raise Http404
    try:
        response = FileResponse(field.open("rb"), content_type="image/jpeg")
    except FileNotFoundError:
        raise Http404
    response["Cache-Control"] = "private, max-age=86400"
    return response
