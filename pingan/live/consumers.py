"""The one WebSocket every page uses: /ws/live/.

On connect the consumer joins the groups the user may hear, as each domain defines them
(pingan/live/registry.py). After (re)connecting the page sends the last id it has of each
timeline, e.g. {"since": 120, "dispute_since": 7}; the consumer replays what it missed, scoped
exactly like the REST lists, then {"type": "caught_up"}, then live pushes. Clients drop ids they
already have, so a message arriving twice is drawn once.
"""

import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from pingan.core import clock

from . import registry

CATCH_UP_LIMIT = 500
# How often a socket checks that its sign-in still stands, at most (it checks before every
# catch-up and before a push once this long has passed): logging out, the idle or 12-hour
# limit, a password change or a disabled account close it within this many seconds of the
# next message it would have sent.
RECHECK_SECONDS = 15
CLOSE_SIGNED_OUT = 4401


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.checked_at = time.monotonic()
        self.groups_joined = await database_sync_to_async(registry.groups_for)(user)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        if not await self._still_signed_in(force=True):
            return
        answered = False
        for source in registry.sources().values():
            if source.resync_key is None or source.catch_up is None:
                continue
            since = content.get(source.resync_key)
            if not _is_sequence(since):
                continue
            for message in await self._missed(source, since):
                await self.send_json(message)
            answered = True
        if answered:
            await self.send_json({"type": "caught_up"})

    @database_sync_to_async
    def _missed(self, source, since: int) -> list[dict]:
        return source.catch_up(self.user, since, CATCH_UP_LIMIT)

    async def live_push(self, message):
        if not await self._still_signed_in():
            return
        # Encoded once by the fan-out for every socket it goes to.
        await self.send(text_data=message["text"])

    async def _still_signed_in(self, force: bool = False) -> bool:
        """Whether the page's sign-in still stands; if not, the socket closes (4401)."""
        if getattr(self, "closed_signed_out", False):
            return False
        if not force and time.monotonic() - self.checked_at < RECHECK_SECONDS:
            return True
        self.checked_at = time.monotonic()
        if await database_sync_to_async(session_valid)(self.session_key, self.user.pk):
            return True
        self.closed_signed_out = True
        await self.close(code=CLOSE_SIGNED_OUT)
        return False


def _is_sequence(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def session_valid(session_key: str | None, user_id) -> bool:
    """The session still exists and has not expired, still signs in the same active user with
    the same password, and (staff) is within its absolute limit. Read afresh from the store."""
    if not session_key:
        return False
    from pingan.accounts.models import User
    from pingan.accounts.sessions import too_old

    store = import_string(settings.SESSION_ENGINE + ".SessionStore")(session_key=session_key)
    data = store.load()  # {} when missing or expired
    if str(data.get(SESSION_KEY)) != str(user_id) or not data.get(BACKEND_SESSION_KEY):
        return False
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    if not constant_time_compare(data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return False
    return not too_old(data, user, clock.now())
