"""The QR code on a checkpoint sticker (巡更点): a short string the server signed, naming the checkpoint and the
version of its sticker.

``PA1:<checkpoint id>.<qr_version>:<signature>``. The signature is Django's ``Signer`` (HMAC-SHA256 over
SECRET_KEY, salted for this use only, so no other signed value of the project can pass for a checkpoint code).
Reprinting a sticker (lost, copied, defaced) bumps ``Checkpoint.qr_version``, and codes of older versions are refused
as expired. A printed code can be photographed: the scan also checks the phone is at the checkpoint.

Key rotation: put the new key in SECRET_KEY and the old one in SECRET_KEY_FALLBACKS; stickers signed with the old key
keep working (``Signer`` tries the fallbacks) while they are reprinted, then the old key is dropped from the
fallbacks and its stickers are refused as forged.
"""

from __future__ import annotations

import base64

from django.core import signing

from alliance.qr import qr_png
from groups.error_codes import GroupErrorCode as Code
from groups.models import Checkpoint
from groups.patrol_refusals import PatrolRefused

PREFIX = "PA1"
_SALT = "pingan.groups.checkpoint-code"
CODE_MAX_LENGTH = 200


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT)


def checkpoint_code_for(checkpoint: Checkpoint) -> str:
    return f"{PREFIX}:{_signer().sign(f'{checkpoint.pk}.{checkpoint.qr_version}')}"


def checkpoint_png_base64(checkpoint: Checkpoint) -> str:
    return base64.b64encode(qr_png(checkpoint_code_for(checkpoint))).decode("ascii")


def checkpoint_from_code(code: str, *, route_id: int | None) -> Checkpoint:
    """The checkpoint a scanned code names, when it is on the route ``route_id``. Raises :class:`PatrolRefused`:
    ``code_forged`` (not signed by us, or not a checkpoint code at all), ``code_expired`` (a sticker that was
    reprinted since), ``code_foreign`` (a checkpoint of another route, or of another alliance)."""
    prefix, _, signed = (code or "").partition(":")
    if prefix != PREFIX or len(code) > CODE_MAX_LENGTH:
        raise PatrolRefused(Code.CODE_FORGED)
    try:
        value = _signer().unsign(signed)
        checkpoint_id, version = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        raise PatrolRefused(Code.CODE_FORGED)
    checkpoint = Checkpoint.objects.filter(pk=checkpoint_id).first()
    if checkpoint is None or route_id is None or checkpoint.route_id != route_id:
        raise PatrolRefused(Code.CODE_FOREIGN)
    if version != checkpoint.qr_version:
        raise PatrolRefused(Code.CODE_EXPIRED)
    return checkpoint
