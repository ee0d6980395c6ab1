"""Photos of a case, the same for a dispute flag and an incident report: how many and how large a report may bring,
how they are re-encoded, the links a case's detail gives, and the answer of the endpoint that serves one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter

from config.images import PreparedImage, image_prepare, image_response
from reports.models import CasePhoto

CASE_PHOTO_MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 6

PHOTO_SIZE_PARAMETER = OpenApiParameter("size", str, enum=["full", "thumbnail"])


def case_photos_prepare(uploads) -> list[PreparedImage]:
    """Each upload checked and re-encoded (at most 2048 px, with a 320 px thumbnail) before anything is written."""
    return [
        image_prepare(upload, max_bytes=CASE_PHOTO_MAX_BYTES, max_side=2048, thumbnail_side=320) for upload in uploads
    ]


def case_photo_links(photos, *, base: str) -> list[dict]:
    """``base``: the case's photos path, ``/api/v1/incidents/<id>/photos``."""
    return [{"id": p.pk, "url": f"{base}/{p.pk}", "thumbnail_url": f"{base}/{p.pk}?size=thumbnail"} for p in photos]


def case_photo_response(request, photos: QuerySet[CasePhoto], photo_id: int):
    """One of the case's ``photos`` (the caller has checked the case may be seen), full size or its thumbnail."""
    photo = photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    field = photo.thumbnail if request.query_params.get("size") == "thumbnail" else photo.image
    return image_response(field)
