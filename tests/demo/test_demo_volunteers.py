"""The demo county's volunteers, points and shops: about ten teams and five hundred volunteers
with profiles, a year of tasks whose slot counts are what the sign-up rules produce, ledgers
that add up at every moment, stock that never went negative, a clerk at every town's shop, and
the demo logins (volunteer1, citizen1, leader1, clerk1, officer1) with something to do."""

import io
from collections import Counter, defaultdict
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Count, F, Q
from django.test import Client
from django.urls import reverse

from pingan.accounts.models import Role, User
from pingan.demo.county.geography import TOWNS
from pingan.demo.county.plan import HUMAN_LOGINS
from pingan.demo.generate import generate_demo_county
from pingan.demo.logins import DEMO_PASSWORD
from pingan.notify.models import MessageStatus, OutboundMessage
from pingan.points import ledger
from pingan.points import services as points
from pingan.points.models import (
    EntryKind,
    OrderStatus,
    PointEntry,
    RedemptionOrder,
    RewardItem,
    RuleCode,
    Shop,
    ShopKind,
)
from pingan.volunteers import services as vol
from pingan.volunteers.models import (
    CheckMethod,
    Membership,
    MembershipStatus,
    Review,
    Signup,
    SignupStatus,
    Task,
    TaskKind,
    TaskStatus,
    Team,
    VolunteerProfile,
)
from tests.live.layer import pending_callbacks

pytestmark = pytest.mark.django_db

SEED = 20261123
NOW = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)  # 10:30 in the county
# A thin incident history keeps the module quick; the task history thins to its floor
# (volunteers.MIN_SCALE) and the teams, shops and showcase are the same at any density.
DENSITY = 0.5


def _fingerprint() -> dict:
    """What must repeat from the same seed and clock (tokens and redeem codes are random)."""
    return {
        "teams": list(
            Team.objects.order_by("code").values_list("code", "name", "leader__username")
        ),
        "members": list(
            Membership.objects.order_by("team__code", "user__username", "pk").values_list(
                "team__code", "user__username", "status", "applied_at", "joined_at", "ended_at"
            )
        ),
        "tasks": list(
            Task.objects.order_by("code").values_list(
                "code",
                "kind",
                "title",
                "starts_at",
                "slots",
                "taken",
                "status",
                "posted_by__username",
            )
        ),
        "signups": list(
            Signup.objects.order_by("task__code", "pk").values_list(
                "task__code",
                "user__username",
                "status",
                "promoted",
                "checked_in_at",
                "checkin_method",
                "review",
                "hours",
                "points_awarded",
            )
        ),
        # A mediation entry names its session by row id, which PostgreSQL does not reuse.
        "ledger": [
            (*row[:4], row[4].split("#")[0], row[5])
            for row in PointEntry.objects.order_by("created_at", "pk").values_list(
                "user__username", "amount", "kind", "rule", "source_ref", "created_at"
            )
        ],
        "orders": list(
            RedemptionOrder.objects.order_by("code").values_list(
                "code", "user__username", "item__name", "status", "created_at"
            )
        ),
    }


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker):
    """The county generated twice from the same seed and clock: the first run is fingerprinted
    and rolled back; the second stays for the module's checks and is rolled back at the end."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            generate_demo_county(seed=SEED, years=1, now=NOW, history_per_day=DENSITY)
            first = _fingerprint()
            transaction.set_rollback(True)
        with transaction.atomic():
            out = io.StringIO()
            generate_demo_county(seed=SEED, years=1, now=NOW, history_per_day=DENSITY, stdout=out)
            callbacks = pending_callbacks()
            yield {
                "first": first,
                "second": _fingerprint(),
                "callbacks": callbacks,
                "output": out.getvalue(),
            }
            transaction.set_rollback(True)


@pytest.mark.usefixtures("county")
class TestDemoVolunteers:
    def test_about_ten_teams_and_five_hundred_volunteers_with_profiles(self):
        teams = Team.objects.all()
        assert 9 <= teams.count() <= 12
        active = Membership.objects.filter(status=MembershipStatus.ACTIVE)
        people = set(active.values_list("user_id", flat=True))
        assert 450 <= len(people) <= 560
        assert User.objects.filter(pk__in=people).exclude(role=Role.VOLUNTEER).count() == 0
        profiles = VolunteerProfile.objects.filter(user_id__in=people)
        assert profiles.count() == len(people)
        for profile in profiles.select_related("user")[:100]:
            assert profile.real_name == profile.user.display_name and profile.phone
            assert profile.skills and profile.availability and profile.home_grid_id
        for team in teams.select_related("leader"):
            assert team.leader is not None, team
            assert active.filter(team=team, user=team.leader).exists(), team
            assert active.filter(team=team).count() >= 15, team
        # Every town has a team; applications were approved, refused, withdrawn from, removed.
        towns = {name[:2] for name in teams.values_list("name", flat=True)}
        assert {t.short[:2] for t in TOWNS} <= towns
        statuses = Counter(Membership.objects.values_list("status", flat=True))
        assert set(MembershipStatus.values) <= set(statuses), statuses
        approved = active.filter(team__requires_approval=True, decided_by__isnull=False)
        assert approved.filter(joined_at__gt=F("applied_at")).count() >= 100
        assert all(
            note
            for note in Membership.objects.filter(
                status__in=(MembershipStatus.REJECTED, MembershipStatus.REMOVED)
            ).values_list("note", flat=True)
        )

    def test_a_year_of_tasks_of_every_kind_with_slots_never_overbooked(self):
        tasks = Task.objects.all()
        assert tasks.count() >= 60
        assert tasks.filter(starts_at__lt=NOW - timedelta(days=300)).exists()
        assert tasks.filter(starts_at__gt=NOW - timedelta(days=30), starts_at__lt=NOW).exists()
        kinds = Counter(tasks.values_list("kind", flat=True))
        wanted = set(TaskKind.values) - {TaskKind.OTHER}
        assert wanted <= set(kinds), kinds
        assert kinds.most_common(1)[0][0] == TaskKind.NIGHT_PATROL
        assert all(
            len(r) >= 2 for r in tasks.filter(kind="night_patrol").values_list("route", flat=True)
        )
        # Every month of the year had tasks.
        months = {(t.year, t.month) for t in tasks.values_list("starts_at", flat=True)}
        assert len(months) >= 12
        counted = tasks.annotate(
            accepted=Count("signups", filter=Q(signups__status=SignupStatus.ACCEPTED))
        )
        for task in counted:
            assert task.taken <= task.slots, task.code
            if task.status == TaskStatus.CANCELLED:
                assert task.taken == 0 and task.accepted == 0 and task.cancel_reason
            else:
                assert task.taken == task.accepted, task.code

    def test_rushes_waiting_lists_promotions_and_cancellations(self):
        signups = Signup.objects.all()
        waiting = signups.filter(status=SignupStatus.WAITING)
        assert waiting.exists()
        # Nobody waits behind a free slot.
        for task in Task.objects.filter(signups__in=waiting).distinct():
            assert task.taken == task.slots, task.code
        promoted = signups.filter(promoted=True)
        assert promoted.exists()
        for signup in promoted[:50]:
            assert signup.status in (SignupStatus.ACCEPTED, SignupStatus.CANCELLED)
            assert signup.accepted_at > signup.created_at
        assert signups.filter(status=SignupStatus.CANCELLED).exists()
        assert signups.filter(status=SignupStatus.VOIDED).exists()
        # A rush: a task whose slots went within minutes of posting.
        rushed = [
            t
            for t in Task.objects.filter(signups__status=SignupStatus.WAITING).distinct()
            if t.signups.order_by("created_at")[t.slots - 1].created_at
            <= t.published_at + timedelta(minutes=30)
        ]
        assert rushed

    def test_check_ins_reports_and_reviews(self):
        done = Signup.objects.filter(checked_in_at__isnull=False).select_related("task")
        methods = Counter(done.values_list("checkin_method", flat=True))
        assert methods[CheckMethod.GPS] and methods[CheckMethod.QR]
        for signup in done.filter(checkin_method=CheckMethod.GPS)[:300]:
            assert signup.checkin_distance_m <= signup.task.checkin_radius_m
            assert signup.status == SignupStatus.ACCEPTED
            window_opens = signup.task.starts_at - timedelta(minutes=60)
            assert window_opens <= signup.checked_in_at <= signup.task.ends_at
        assert done.exclude(report_text="").count() >= done.count() // 2
        confirmed = done.filter(review=Review.CONFIRMED)
        assert confirmed.count() >= 200
        assert not confirmed.filter(Q(hours__lte=0) | Q(points_awarded__lte=0)).exists()
        rejected = done.filter(review=Review.REJECTED)
        assert rejected.exists() and all(rejected.values_list("review_reason", flat=True))
        assert not Signup.objects.filter(review__gt="", checked_in_at__isnull=True).exists()

    def test_ledgers_add_up_at_every_moment(self):
        running: dict[int, int] = defaultdict(int)
        for user_id, amount in PointEntry.objects.order_by("created_at", "pk").values_list(
            "user_id", "amount"
        ):
            running[user_id] += amount
            assert running[user_id] >= 0, user_id
        for user in User.objects.filter(pk__in=list(running)[:200]):
            assert ledger.balance(user) == running[user.pk] >= 0
        assert not PointEntry.objects.exclude(kind=EntryKind.EARN).filter(rule__gt="").exists()
        # Each confirmed sign-up earned exactly what its ledger entries say.
        earned = _task_points()
        for code, user_id, awarded in Signup.objects.filter(review=Review.CONFIRMED).values_list(
            "task__code", "user_id", "points_awarded"
        ):
            assert earned.get((code, user_id), 0) == awarded, code
        assert len(earned) == Signup.objects.filter(review=Review.CONFIRMED).count()
        # Orders: a debit each, and a refund of exactly their points when they did not happen.
        entries = defaultdict(list)
        for ref, kind, amount in PointEntry.objects.filter(source_type="order").values_list(
            "source_ref", "kind", "amount"
        ):
            entries[ref].append((kind, amount))
        for order in RedemptionOrder.objects.all():
            got = sorted(entries[order.code])
            if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
                assert got == sorted(
                    [(EntryKind.REDEEM, -order.points), (EntryKind.REFUND, order.points)]
                )
            else:
                assert got == [(EntryKind.REDEEM, -order.points)]
        rules = set(PointEntry.objects.values_list("rule", flat=True))
        assert {RuleCode.TASK_CONFIRMED, RuleCode.PATROL_HOUR, RuleCode.TIP_CONFIRMED} <= rules
        assert RuleCode.MEDIATION_HELP in rules

    def test_a_shop_per_town_with_a_clerk_and_stock_never_negative(self):
        shops = Shop.objects.prefetch_related("clerks")
        stations = {s.org_id for s in shops.filter(kind=ShopKind.LOVE_SUPERMARKET)}
        assert len(stations) == len(TOWNS)
        assert shops.filter(kind=ShopKind.PARTNER_STORE).exists()
        for shop in shops:
            clerks = list(shop.clerks.all())
            assert clerks and all(c.role == Role.CLERK for c in clerks), shop
            assert shop.items.count() >= 3
        assert not RewardItem.objects.filter(stock__lt=0).exists()
        statuses = Counter(RedemptionOrder.objects.values_list("status", flat=True))
        assert set(OrderStatus.values) <= set(statuses), statuses
        for order in RedemptionOrder.objects.filter(status=OrderStatus.VERIFIED).select_related(
            "shop", "verified_by"
        )[:200]:
            assert order.shop.clerks.filter(pk=order.verified_by_id).exists()
            assert order.created_at < order.verified_at < order.expires_at

    def test_clerk1_logs_in_and_verifies_at_the_county_seat_shop(self):
        assert {"clerk1", "leader1", "volunteer1", "citizen1"} <= set(HUMAN_LOGINS)
        clerk1 = User.objects.get(username="clerk1")
        assert clerk1.role == Role.CLERK and clerk1.check_password(DEMO_PASSWORD)
        shop = Shop.objects.get(clerks=clerk1)
        assert shop.name == "城关镇爱心超市" and shop.kind == ShopKind.LOVE_SUPERMARKET
        client = Client()
        response = client.post(reverse("login"), {"username": "clerk1", "password": DEMO_PASSWORD})
        assert response.status_code == 302 and response.url == reverse("shop-verify")
        # volunteer1's order waits at this shop; clerk1 finds it by its code.
        order = RedemptionOrder.objects.get(
            user__username="volunteer1", status=OrderStatus.PENDING, shop=shop
        )
        assert points.find_order_for_clerk(clerk1, order.redeem_code) == order

    def test_volunteer1_has_tasks_points_and_a_pending_order(self):
        volunteer1 = User.objects.get(username="volunteer1")
        membership = Membership.objects.get(user=volunteer1, status=MembershipStatus.ACTIVE)
        assert membership.team.name == "城关镇红袖标义警队"
        history = vol.history_for(volunteer1)
        assert history["tasks_done"] >= 5 and history["hours"] > 10
        assert ledger.balance(volunteer1) > 0
        assert RedemptionOrder.objects.filter(user=volunteer1, status=OrderStatus.VERIFIED).exists()
        assert RedemptionOrder.objects.filter(user=volunteer1, status=OrderStatus.PENDING).exists()
        # Signed up for a task to come; last night's patrol waits for officer1's confirmation.
        assert Signup.objects.filter(
            user=volunteer1, status=SignupStatus.ACCEPTED, task__starts_at__gt=NOW
        ).exists()
        waiting = Signup.objects.get(
            user=volunteer1,
            task__posted_by__username="officer1",
            task__ends_at__lt=NOW,
            task__ends_at__gt=NOW - timedelta(days=1),
        )
        assert waiting.checked_in_at and waiting.report_text and not waiting.review
        officer1 = User.objects.get(username="officer1")
        assert vol.can_manage_task(officer1, waiting.task)

    def test_citizen1_has_tip_points_and_can_shop(self):
        citizen1 = User.objects.get(username="citizen1")
        assert citizen1.role == Role.CITIZEN
        rules = set(PointEntry.objects.filter(user=citizen1).values_list("rule", flat=True))
        assert {RuleCode.TIP_CONFIRMED, RuleCode.TIP_ARREST} <= rules
        cheapest = RewardItem.objects.filter(stock__gt=0, active=True).order_by("points_price")[0]
        assert ledger.balance(citizen1) >= cheapest.points_price
        order = points.redeem(citizen1, cheapest.pk, now=NOW)
        assert order.status == OrderStatus.PENDING

    def test_open_tasks_right_after_the_demo_starts(self):
        volunteer1 = User.objects.get(username="volunteer1")
        open_ = list(vol.open_tasks_for(volunteer1, NOW).filter(starts_at__gt=NOW))
        assert len(open_) >= 3
        assert any(t.taken < t.slots for t in open_)
        assert any(
            t.taken == t.slots and t.signups.filter(status=SignupStatus.WAITING).exists()
            for t in open_
        )
        # Every team has something coming up or just done; leader1 has applications to decide.
        leader1 = User.objects.get(username="leader1")
        assert vol.memberships_to_decide(leader1).count() >= 2

    def test_no_flood_of_messages_or_pushes_and_the_same_seed_repeats(self, county):
        assert not OutboundMessage.objects.filter(status=MessageStatus.QUEUED).exists()
        assert OutboundMessage.objects.filter(backend="demo", topic__startswith="task:").exists()
        assert not [
            c
            for c in county["callbacks"]
            if ".volunteers." in c or ".points." in c or c == "push:pushes"
        ]
        assert county["first"] == county["second"]
        assert "义警队伍" in county["output"]


def _task_points() -> dict:
    totals: dict = defaultdict(int)
    for ref, user_id, amount in PointEntry.objects.filter(source_type="task").values_list(
        "source_ref", "user_id", "amount"
    ):
        totals[(ref, user_id)] += amount
    return totals


def test_the_printed_demo_logins_include_clerk1_and_leader1():
    from pingan import cli

    printed = io.StringIO()
    with redirect_stdout(printed):
        cli._print_logins("127.0.0.1", 8000)
    for username in ("clerk1", "leader1", "volunteer1", "citizen1"):
        assert username in printed.getvalue(), username
