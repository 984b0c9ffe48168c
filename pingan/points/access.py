"""Who may see which shops, orders and ledger entries: one scoped queryset per model and a get
helper that answers 404 alike for "missing" and "not yours", so codes cannot be probed."""

from pingan.accounts.models import Role, User

# Points are earned and spent by residents; staff run the shops, clerks verify at them.
from pingan.accounts.roles import MANAGER_ROLES, is_resident
from pingan.core.errors import NotFound
from pingan.orgs.scoping import in_scope

from .models import PointEntry, RedemptionOrder, Shop


def can_manage_shop(user: User, shop: Shop) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.role in MANAGER_ROLES and in_scope(user, shop.org_path)


# --- shops --------------------------------------------------------------------------------------


def shops_for(user: User):
    """Clerks: the shops they work at. Staff: shops in their scope (open or not). Residents:
    open shops."""
    qs = Shop.objects.select_related("org")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.role == Role.CLERK:
        return qs.filter(clerks=user)
    if user.is_staff_role:
        return qs.in_jurisdiction(user)
    return qs.filter(active=True)


def get_shop_for(user: User, code: str) -> Shop:
    shop = shops_for(user).filter(code=code).first()
    if shop is None:
        raise NotFound("未找到该兑换点，或您无权查看")
    return shop


def items_for(user: User, shop: Shop):
    """A shop's items as this viewer may see them: residents see what is on the shelf."""
    qs = shop.items.all()
    if is_resident(user):
        qs = qs.filter(active=True)
    return qs


# --- orders -------------------------------------------------------------------------------------


def orders_for(user: User):
    """Residents: their own orders. Clerks: orders of their shops. Staff: orders of shops in
    their scope."""
    qs = RedemptionOrder.objects.select_related("item", "shop__org", "user")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.role == Role.CLERK:
        return qs.filter(shop__clerks=user)
    if user.is_staff_role:
        return qs.in_jurisdiction(user)
    return qs.filter(user=user)


def get_order_for(user: User, code: str) -> RedemptionOrder:
    order = orders_for(user).filter(code=code).first()
    if order is None:
        raise NotFound("未找到该兑换订单，或您无权查看")
    return order


# --- ledger -------------------------------------------------------------------------------------


def ledger_for(viewer: User, *, user: User | None = None):
    """Residents (and clerks): only their own entries; asking for someone else's is a 404.
    Staff: entries written for org units in their scope, optionally of one person."""
    qs = PointEntry.objects.select_related("user", "org", "team")
    if not viewer.is_authenticated:
        return qs.none()
    if viewer.is_superuser:
        return qs.filter(user=user) if user is not None else qs
    if viewer.is_staff_role:
        qs = qs.in_jurisdiction(viewer)
        return qs.filter(user=user) if user is not None else qs
    if user is not None and user.pk != viewer.pk:
        raise NotFound("未找到该积分账户，或您无权查看")
    return qs.filter(user=viewer)
