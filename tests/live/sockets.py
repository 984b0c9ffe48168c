"""A test client for the live socket: the real consumer behind the real routing."""

from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client

from pingan.live.routing import websocket_urlpatterns

app = URLRouter(websocket_urlpatterns)


def signed_in_session(user):
    """A real session signing `user` in, as the page's cookie would bring it."""
    client = Client()
    client.force_login(user)
    return client.session


async def connect(user, session=None):
    communicator = WebsocketCommunicator(app, "/ws/live/")
    communicator.scope["user"] = user
    communicator.scope["session"] = session or await sync_to_async(signed_in_session)(user)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def drain(communicator, timeout=0.3):
    """Everything that arrives until the socket stays quiet (without cancelling the app)."""
    messages = []
    while not await communicator.receive_nothing(timeout=timeout):
        messages.append(await communicator.receive_json_from())
    return messages
