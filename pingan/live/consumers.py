"""The one WebSocket every page uses: /ws/live/.

On connect the consumer joins the groups the user may hear (their user group, and for staff
their scope org's group). The client sends {"since": <last event id>} after (re)connecting and
receives every event it missed, scoped exactly like the REST lists, then live events. Clients
drop events whose id they already have, so an event arriving twice is drawn once.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from pingan.incidents.models import IncidentEvent
from pingan.incidents.services import incidents_for
from pingan.orgs.services import scope_org

from .publish import (
    ALL_GROUP,
    DISPUTE_ALL_GROUP,
    dispute_message,
    dispute_org_group,
    event_message,
    org_group,
    team_group,
    user_group,
    volunteer_grid_group,
)

CATCH_UP_LIMIT = 500


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.groups_joined = await self._groups()
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    @database_sync_to_async
    def _groups(self):
        groups = [user_group(self.user.pk)]
        if self.user.is_superuser:
            groups += [ALL_GROUP, DISPUTE_ALL_GROUP]
        elif self.user.is_staff_role:
            root = scope_org(self.user)
            if root is not None:
                groups.append(org_group(root.pk))
                if self.user.is_commander:
                    groups.append(dispute_org_group(root.pk))
        groups += self._volunteer_groups()
        return groups

    def _volunteer_groups(self) -> list[str]:
        from pingan.volunteers.models import Membership, MembershipStatus, VolunteerProfile

        teams = Membership.objects.filter(user=self.user, status=MembershipStatus.ACTIVE)
        groups = [team_group(t) for t in teams.values_list("team_id", flat=True)]
        home = (
            VolunteerProfile.objects.filter(user=self.user)
            .values_list("home_grid_id", flat=True)
            .first()
        )
        if home:
            groups.append(volunteer_grid_group(home))
        return groups

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        since = content.get("since")
        dispute_since = content.get("dispute_since")
        answered = False
        if _is_sequence(since):
            for message in await self._missed(since):
                await self.send_json(message)
            answered = True
        if _is_sequence(dispute_since):
            for message in await self._missed_disputes(dispute_since):
                await self.send_json(message)
            answered = True
        if answered:
            await self.send_json({"type": "caught_up"})

    @database_sync_to_async
    def _missed(self, since: int) -> list[dict]:
        visible = incidents_for(self.user)
        events = (
            IncidentEvent.objects.filter(pk__gt=since, incident__in=visible.values("pk"))
            .select_related(
                "incident",
                "incident__category",
                "incident__grid",
                "incident__org",
                "incident__duplicate_of",
            )
            .order_by("pk")[:CATCH_UP_LIMIT]
        )
        return [event_message(e) for e in events]

    @database_sync_to_async
    def _missed_disputes(self, since: int) -> list[dict]:
        from pingan.disputes.models import DisputeEvent
        from pingan.disputes.services import disputes_for, is_staff_viewer

        staff = is_staff_viewer(self.user)
        events = DisputeEvent.objects.filter(
            pk__gt=since, dispute__in=disputes_for(self.user).values("pk")
        )
        if not staff:
            events = events.filter(public=True)
        events = events.select_related("dispute", "dispute__grid", "dispute__org").order_by("pk")
        return [dispute_message(e, public=not staff) for e in events[:CATCH_UP_LIMIT]]

    async def push_event(self, message):
        await self.send_json(message)

    async def push_dispute(self, message):
        await self.send_json(message)

    async def push_task(self, message):
        await self.send_json(message)


def _is_sequence(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
