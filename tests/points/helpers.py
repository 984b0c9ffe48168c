"""Builders shared by the points and rewards-shop tests (the pages and recognition tests use
them too, so their names and defaults stay stable).

Shops and items are made straight in the database, not through the services, so a test of a
page does not depend on the rules the service tests check.
"""

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.core.sequences import next_code
from pingan.points import ledger
from pingan.points.models import EntryKind, PointEntry, RewardItem, Shop, ShopKind
from tests.conftest import make_user


def make_shop(
    world,
    *,
    name="东门爱心超市",
    kind=ShopKind.LOVE_SUPERMARKET,
    org=None,
    clerks=(),
    active=True,
    address="东门街 8 号",
    now=None,
) -> Shop:
    """A shop of station A's office unless `org` says otherwise."""
    now = now or clock.now()
    org = org or world.office_a
    shop = Shop.objects.create(
        code=next_code("SP", now),
        name=name,
        kind=kind,
        org=org,
        org_path=org.path,
        address=address,
        active=active,
        created_at=now,
    )
    if clerks:
        shop.clerks.set(clerks)
    return shop


def make_item(
    shop,
    *,
    name="大米 5 斤",
    points_price=50,
    stock=10,
    limit_per_person=None,
    limit_period="total",
    active=True,
    description="",
    now=None,
) -> RewardItem:
    return RewardItem.objects.create(
        shop=shop,
        name=name,
        description=description,
        points_price=points_price,
        stock=stock,
        limit_per_person=limit_per_person,
        limit_period=limit_period,
        active=active,
        created_at=now or clock.now(),
    )


def make_clerk(shop=None, *, username="clerk_a", display_name="店员小周", phone="") -> User:
    """A user with the clerk role, a clerk of `shop` when one is given."""
    clerk = make_user(username, Role.CLERK, display_name=display_name, phone=phone)
    if shop is not None:
        shop.clerks.add(clerk)
    return clerk


def give_points(
    user, n: int, *, kind=EntryKind.ADJUST, reason="测试发放", org=None, now=None
) -> PointEntry:
    """Credit (or, with a negative n, debit) `n` points through the ledger."""
    return ledger.post(
        user, n, kind, reason, source_type="test", source_ref="helpers", org=org, now=now
    )


def make_order(user, item, *, quantity=1, now=None):
    """Redeem through the service (the user needs the points: see give_points)."""
    from pingan.points import services

    return services.redeem(user, item.pk, quantity, now=now)


def entries_sum(user) -> int:
    """The sum of a person's entries, added up here rather than by the ledger."""
    return sum(PointEntry.objects.filter(user=user).values_list("amount", flat=True))
