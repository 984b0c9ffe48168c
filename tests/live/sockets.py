"""A test client for the live socket: the real consumer behind the real routing."""

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from pingan.live.routing import websocket_urlpatterns

app = URLRouter(websocket_urlpatterns)


async def connect(user):
    communicator = WebsocketCommunicator(app, "/ws/live/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def drain(communicator, timeout=0.3):
    """Everything that arrives until the socket stays quiet (without cancelling the app)."""
    messages = []
    while not await communicator.receive_nothing(timeout=timeout):
        messages.append(await communicator.receive_json_from())
    return messages
