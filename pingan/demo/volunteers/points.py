"""Points and the rewards shops: shops opened and restocked, residents redeeming and clerks
verifying, and the points residents earn for tips and help in mediations.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db.models import Sum

from pingan.accounts.models import Role, User
from pingan.demo.county.geography import TOWNS
from pingan.demo.county.incident_texts import address_for
from pingan.demo.county.names import Names
from pingan.demo.county.open_incidents import actor_for
from pingan.demo.county.plan import RESERVED_UNIT_USERS
from pingan.disputes.models import MediationSession
from pingan.incidents import services as incidents
from pingan.incidents.models import Incident, Outcome, Source
from pingan.incidents.models import Status as IncidentStatus
from pingan.orgs import services as orgs
from pingan.points import services as points
from pingan.points.models import (
    PointEntry,
    RedemptionOrder,
    RewardItem,
)
from pingan.volunteers.models import (
    Skill,
)

from . import tales
from .base import RunBase
from .plan import (
    RURAL,
    ShopLife,
    clock_at,
)
from .roster import clerk_usernames


class Points(RunBase):
    # Shops --------------------------------------------------------------------------------

    def plan_shops(self) -> None:
        clerks = clerk_usernames()
        for index, (town, name, kind, specs) in enumerate(tales.SHOPS):
            self.shops.append(ShopLife(town, name, kind, specs, self.users[clerks[index]]))
        opened = self.start - timedelta(days=5)
        for life in self.shops:
            self.add(
                self.working(opened, self.rng, 9, 16), lambda now, s=life: self._open(s, now), 1
            )
        # Every week: the stations restock what runs low, and residents with points shop.
        day = self.local(self.start + timedelta(days=20)).date()
        while self.at_local(day, 18) <= self.limit:
            self.add(self.at_local(day, 18), self._week, prio=6)
            day += timedelta(days=7)

    def _open(self, life: ShopLife, now) -> None:
        rng = random.Random(f"{self.seed}:shop:{life.name}")
        seat = self.seat(life.town)
        chief = self.users[f"chief{life.town + 1}"]
        lng, lat = self.spot(seat, rng, 0.25)
        names = Names(rng)
        life.shop = points.create_shop(
            chief,
            name=life.name,
            kind=life.kind,
            org=self.s.stations[life.town],
            address=address_for(seat.name, seat.kind, rng),
            phone=names.phone().replace("+86", ""),
            opening_hours=tales.SHOP_HOURS[life.kind],
            lng=lng,
            lat=lat,
            now=now,
        )
        points.set_clerks(chief, life.shop, [life.clerk])
        for spec in life.specs:
            item = points.save_item(
                chief,
                life.shop,
                name=spec.name,
                description=spec.description,
                points_price=spec.price,
                stock=spec.stock,
                limit_per_person=spec.limit,
                limit_period=spec.period,
                now=now,
            )
            life.items.append((item, spec))

    def _week(self, now) -> None:
        rng = random.Random(f"{self.seed}:week:{now.isoformat()}")
        chiefs = {life.town: self.users[f"chief{life.town + 1}"] for life in self.shops}
        low = {
            item.pk: item
            for item in RewardItem.objects.filter(shop__in=[s.shop for s in self.shops if s.shop])
            .select_related("shop")
            .order_by("pk")
        }
        for life in self.shops:
            for item, spec in life.items:
                current = low.get(item.pk)
                if current is not None and current.stock < spec.stock // 4:
                    points.restock(chiefs[life.town], current, spec.stock)
        balances = dict(
            PointEntry.objects.values_list("user_id").annotate(total=Sum("amount")).order_by()
        )
        holders = {
            u.pk: u for u in User.objects.filter(pk__in=[k for k, v in balances.items() if v >= 80])
        }
        for user_id in sorted(holders):
            user = holders[user_id]
            if user.role not in (Role.VOLUNTEER, Role.CITIZEN) or rng.random() > 0.07:
                continue
            if user in self.keep_points:
                continue
            at = self.working(now + timedelta(hours=rng.uniform(14, 150)), rng, 9, 17)
            self.add(at, lambda when, u=user: self._shop(u, when), prio=6)

    def _town(self, user: User) -> int:
        if user.pk in self.town_of:
            return self.town_of[user.pk]
        digits = "".join(ch for ch in user.username if ch.isdigit()) or "0"
        return int(digits) % len(TOWNS)

    def _shop(self, user: User, now, *, want: tuple = (), fate: str = "") -> None:
        """A resident redeems something they can afford at a shop of their town (`want`: the
        item names they look for first, at the county seat's supermarket)."""
        rng = random.Random(f"{self.seed}:shop:{user.username}:{now.isoformat()}")
        town = self._town(user)
        shops = [s for s in self.shops if s.town == town and s.shop] or [self.shops[0]]
        life = self.shops[0] if want else shops[0] if rng.random() < 0.75 else rng.choice(shops)
        balance = points.balance(user)
        choices = [(i, s) for i, s in life.items if s.price <= balance]
        if not choices:
            return
        wanted = [i for name in want for i, s in choices if s.name.startswith(name)]
        if wanted:
            item = wanted[0]
        elif want:
            item = min(choices, key=lambda pair: pair[1].price)[0]
        else:
            weights = [3 if s.price >= 150 else 1 for _, s in choices]
            item = rng.choices([i for i, _ in choices], weights)[0]
        order = self.call("redeem", points.redeem, user, item.pk, 1, now=now)
        if order is None:
            return
        self.counts["orders"] += 1
        fate = fate or rng.choices(("verify", "cancel", "expire"), (86, 6, 8))[0]
        if fate == "verify":
            at = self.working(now + timedelta(hours=rng.uniform(2, 96)), rng, 9, 17)
            self.add(at, lambda when, o=order, c=life.clerk: self._verify(o, c, when), prio=6)
        elif fate == "cancel":
            at = now + timedelta(hours=rng.uniform(1, 30))
            reason = rng.choice(tales.ORDER_CANCEL_REASONS)
            self.add(
                at,
                lambda when, o=order, u=user: self.call(
                    "cancel_order", points.cancel_order, u, o.code, reason=reason, now=when
                ),
                prio=6,
            )
        elif fate == "expire":
            self.add(order.expires_at + timedelta(minutes=10), self._expire, prio=6)

    def _verify(self, order: RedemptionOrder, clerk: User, now) -> None:
        if self.call("verify", points.verify_order, clerk, order.redeem_code, now=now):
            self.counts["verified"] += 1

    def _expire(self, now) -> None:
        self.counts["expired"] += points.expire_orders(now)

    # Tips and mediation help ---------------------------------------------------------------

    def plan_tips(self) -> None:
        """The tip sweep, played per incident: each valid report by a known resident is
        credited a few minutes after it was handled, as a running sweeper would."""
        rows = (
            Incident.objects.filter(
                status__in=(IncidentStatus.RESOLVED, IncidentStatus.CLOSED),
                valid=True,
                anonymous=False,
                reporter__role__in=(Role.CITIZEN, Role.VOLUNTEER),
                resolved_at__gte=self.start,
                resolved_at__lte=self.limit,
            )
            .select_related("reporter", "org")
            .order_by("resolved_at", "pk")
        )
        for incident in rows:
            at = incident.resolved_at + timedelta(minutes=10)
            self.add(at, lambda now, i=incident: self._tip(i, now), prio=5)

    def _tip(self, incident: Incident, now) -> None:
        self.counts["tips"] += len(points.award_tip(incident, now=now))

    def _citizen1(self) -> None:
        """citizen1's two tips this month, in a village far from officer1's grids: one that
        led to an arrest, one settled on the spot. The dispatched unit accepts, arrives and
        resolves each; the tip sweep then credits citizen1."""
        citizen1 = self.users["citizen1"]
        grid = next(g for g in self.grids_by_town[1] if g.kind == RURAL)
        rng = random.Random(f"{self.seed}:citizen1")
        tips = (
            (20, "080200", tales.CITIZEN1_TIPS[0], Outcome.ARREST, "现场抓获参赌人员 4 名"),
            (9, "080300", tales.CITIZEN1_TIPS[1], Outcome.HANDLED_ON_SITE, "已劝导摊主撤离"),
        )
        for days, category, text, outcome, note in tips:
            reported = self.working(self.now - timedelta(days=days), rng, 9, 17)
            point = self.spot(grid, rng, 0.4)
            address = address_for(grid.name, grid.kind, rng)

            def act(
                now,
                category=category,
                text=text,
                outcome=outcome,
                note=note,
                point=point,
                address=address,
            ):
                result = incidents.report(
                    category_code=category,
                    description=text,
                    lng=point[0],
                    lat=point[1],
                    address=address,
                    reporter=citizen1,
                    source=Source.CITIZEN_APP,
                    now=now,
                )
                unit = result.assignment.unit if result.assignment else None
                actor = actor_for(unit) if unit else None
                if actor is None or actor.username in RESERVED_UNIT_USERS:
                    self.errors["citizen1_tip:no_unit"] += 1
                    return
                code = result.incident.code
                steps = (
                    (timedelta(seconds=rng.uniform(10, 40)), incidents.accept, {}),
                    (timedelta(minutes=rng.uniform(6, 15)), incidents.arrive, {}),
                    (
                        timedelta(hours=rng.uniform(1, 3)),
                        incidents.resolve,
                        {"outcome": outcome, "note": note, "valid": True},
                    ),
                )
                for delay, action, extra in steps:
                    with clock_at(now + delay):
                        incident = action(code, actor, now=now + delay, **extra)
                self.add(
                    now + delay + timedelta(minutes=10),
                    lambda when, i=incident: self._tip(i, when),
                )

            self.add(reported, act, prio=5)

    def plan_mediation_help(self) -> None:
        rng = random.Random(self.seed * 7919 + 5)
        sessions = list(
            MediationSession.objects.filter(held_at__gte=self.start, held_at__lte=self.limit)
            .select_related("dispute__org")
            .order_by("held_at", "pk")
        )
        wanted = max(3, round(len(sessions) * 0.25))
        for session in sorted(rng.sample(sessions, min(wanted, len(sessions))), key=lambda s: s.pk):
            station = orgs.station_of(session.dispute.org)
            town = next(i for i, s in enumerate(self.s.stations) if s.pk == station.pk)
            at = session.held_at + timedelta(hours=rng.uniform(1, 20))
            helpers = [
                st.user
                for life in self.teams.values()
                if life.spec.town == town
                for st in life.stints
                if st.active_over(session.held_at, at) and Skill.MEDIATION in life.spec.skills
            ]
            if not helpers:
                continue
            helper = self.pick(rng, sorted(helpers, key=lambda u: u.pk), 1)[0]
            chief = self.users[f"chief{town + 1}"]
            self.add(
                at,
                lambda now, s=session, h=helper, c=chief: self._mediation(s, h, c, now),
                prio=5,
            )

    def _mediation(self, session, helper: User, chief: User, now) -> None:
        entry = self.call(
            "mediation",
            points.award_mediation_help,
            chief,
            session.dispute.code,
            session_id=session.pk,
            helper=helper,
            now=now,
        )
        if entry is not None:
            self.counts["mediation_helps"] += 1

    def _showcase_orders(self) -> None:
        """Orders in every state whatever the density: volunteer1 collected washing powder a
        while ago and has a towel to fetch now; the keenest earners have one that lapsed, one
        they called off, and a few waiting at the counter."""
        rng = self.rng
        past = self.working(self.now - timedelta(days=60), rng, 10, 16)
        self.add(
            past, lambda now: self._shop(self.volunteer1, now, want=("洗衣粉",), fate="verify")
        )
        recent = min(self.working(self.now - timedelta(days=2), rng, 10, 16), self.limit)
        self.add(recent, lambda now: self._shop(self.volunteer1, now, want=("毛巾",), fate="keep"))
        for days, fate, count in ((45, "expire", 2), (20, "cancel", 2), (3, "keep", 3)):
            at = self.working(self.now - timedelta(days=days), rng, 10, 16)
            self.add(at, lambda now, f=fate, n=count: self._richest_shop(now, f, n), prio=6)

    def _richest_shop(self, now, fate: str, count: int) -> None:
        balances = (
            PointEntry.objects.exclude(user__in=self.keep_points)
            .values("user_id")
            .annotate(total=Sum("amount"))
            .order_by("-total", "user_id")[:count]
        )
        people = User.objects.in_bulk([row["user_id"] for row in balances])
        for row in balances:
            self._shop(people[row["user_id"]], now + timedelta(minutes=5), fate=fate)
