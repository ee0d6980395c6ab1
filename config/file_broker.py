"""The embedded default's broker: kombu's filesystem transport, with each message written whole before it is seen.

kombu's own ``_put`` opens ``<time>_<uuid>.<queue>.msg`` in the queue folder and only then writes the payload, so a
worker polling the folder at that instant moves the still-empty file away, reads nothing and dies on
``JSONDecodeError`` (celery/kombu#1551; the worker of ``dev.py run`` stopped this way under a burst of flags). Here
the payload goes to a file whose name the reader skips, and ``os.replace`` gives it its real name in one step: the
reader sees either no file or the whole message. Everything else is kombu's.

Registered as the ``pingan-files://`` broker address when ``config`` is imported (config/celery_app.py), so every
process that sends or consumes tasks uses it.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

SCHEME = "pingan-files"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # Starts with a dot and ends in .partial: neither kombu's reader (which wants "<anything>.<queue>.msg") nor a
        # listing sorted by time ever takes it for a message.
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> None:
    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
