"""What every change starts with: the dispute locked (and in the user's scope), its state
checked, and a proposed owner checked.

The underscored helpers here and in timeline.py are private to the package, shared by its
modules; callers outside go through the names the package exports.
"""

from pingan.accounts.models import Role, User
from pingan.accounts.roles import is_staff_viewer
from pingan.core.errors import Conflict, Forbidden, ServiceError
from pingan.orgs import services as orgs
from pingan.orgs.models import OrgUnit

from ..access import get_dispute_for
from ..models import OPEN_STATUSES, Dispute, Status


def _lock(user: User, code: str, *, staff: bool = True) -> Dispute:
    if staff and not is_staff_viewer(user):
        raise Forbidden("只有民警、辅警、网格员和指挥员可以办理纠纷")
    get_dispute_for(user, code)
    # Lock the dispute row only: with the joins, PostgreSQL would also lock the grid and org
    # rows and serialise every change to any dispute of the same office.
    return (
        Dispute.objects.select_for_update(of=("self",)).select_related("grid", "org").get(code=code)
    )


def _require_open(dispute: Dispute) -> None:
    if dispute.status not in OPEN_STATUSES:
        raise Conflict("dispute_not_open", f"纠纷已{dispute.get_status_display()}，不能再办理")


def _require_accepted(dispute: Dispute) -> None:
    if dispute.status == Status.PENDING:
        raise Conflict("dispute_pending", "请先受理该调解申请")
    _require_open(dispute)


def _check_owner(owner: User | None, dispute_org: OrgUnit) -> None:
    if owner is None:
        return
    if owner.role not in (Role.OFFICER, Role.AUXILIARY, Role.COMMANDER) or not owner.is_active:
        raise ServiceError("bad_owner", "责任人必须是在职的民警、辅警或指挥员")
    station = orgs.station_of(dispute_org)
    if owner.org_id is None or not (
        owner.org.path.startswith(station.path) or dispute_org.path.startswith(owner.org.path)
    ):
        raise ServiceError("bad_owner", "责任人必须是本所或上级单位的人员")
