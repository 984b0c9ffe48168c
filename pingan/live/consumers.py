"""The one WebSocket every page uses: /ws/live/.

On connect the consumer joins the groups the user may hear, as each domain defines them
(pingan/live/registry.py). After (re)connecting the page sends the last id it has of each
timeline, e.g. {"since": 120, "dispute_since": 7}; the consumer replays what it missed, scoped
exactly like the REST lists, then {"type": "caught_up"}, then live pushes. Clients drop ids they
already have, so a message arriving twice is drawn once.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import registry

CATCH_UP_LIMIT = 500


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
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
        # Encoded once by the fan-out for every socket it goes to.
        await self.send(text_data=message["text"])


def _is_sequence(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
