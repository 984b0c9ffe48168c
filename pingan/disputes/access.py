"""Who may see which dispute: the one scoped queryset and the checks built on it."""

from django.db.models import Q

from pingan.accounts.models import User
from pingan.core.errors import NotFound
from pingan.orgs.models import Grid

from .models import CaseOrder, Dispute


def staff_grids(user: User):
    return Grid.objects.filter(Q(officer=user) | Q(auxiliaries=user) | Q(grid_workers=user)).values(
        "pk"
    )


def disputes_for(user: User):
    """Disputes a user may see in full: the owner, the grid's staff, whoever filed it, and the
    chain of command (commanders over the dispute's unit). Residents see their own requests."""
    qs = Dispute.objects.select_related("grid", "org", "owner")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.is_commander:
        return qs.in_jurisdiction(user)
    if user.is_staff_role:
        orders = CaseOrder.objects.filter(owner=user).values("dispute_id")
        return qs.filter(
            Q(owner=user) | Q(filed_by=user) | Q(grid__in=staff_grids(user)) | Q(pk__in=orders)
        )
    return qs.filter(requester=user)


def get_dispute_for(user: User, code: str) -> Dispute:
    dispute = disputes_for(user).filter(code=code).first()
    if dispute is None:
        raise NotFound("未找到该纠纷，或您无权查看")
    return dispute
