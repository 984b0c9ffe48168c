"""The socket server: WebSockets at /ws/live/, and the live fan-out started with it.

HTTP is served by the WSGI workers (pingan/serving.py); this app still answers HTTP too (through
the admission gate), so a deployment that wants a single ASGI process can have one.
"""

import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from pingan.core.admission import AdmissionGate  # noqa: E402
from pingan.core.bodylimit import AsgiBodyLimit  # noqa: E402
from pingan.live import fanout  # noqa: E402
from pingan.live.routing import websocket_urlpatterns  # noqa: E402


class Lifespan:
    """Starts this process's live fan-out on the server's event loop, and stops it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if settings.LIVE_FANOUT == "wake" and settings.LIVE_RUN_FANOUT:
                    fanout.start(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, fanout.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return


application = Lifespan(
    ProtocolTypeRouter(
        {
            "http": AsgiBodyLimit(AdmissionGate(django_asgi_app, settings.HTTP_ADMISSION_LIMIT)),
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)
