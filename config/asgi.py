"""ASGI entry point: HTTP and the WebSocket at /ws/.

The embedded default serves everything from this one process; production routes /ws/ here and the REST API to
the WSGI processes (see README).
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.websocket import WebSocketOriginValidator  # noqa: E402
from groups.delivery import RelayOutboxMiddleware  # noqa: E402
from groups.events import serve_sockets_here  # noqa: E402
from groups.routing import websocket_urlpatterns  # noqa: E402

# This process holds the sockets: with the in-process channel layer (embedded default) it alone delivers live
# events, relaying those the Celery worker leaves in the outbox (groups/events.py).
serve_sockets_here()
application = RelayOutboxMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": WebSocketOriginValidator(URLRouter(websocket_urlpatterns)),
        }
    )
)

# A server with a thousand sockets holds a few hundred thousand long-lived objects; full garbage collections over them
# took 100-300 ms and landed inside a broadcast. Freeze what start-up made and collect less often (bench/ws_fanout.py).
gc.freeze()
gc.set_threshold(50_000, 20, 20)
