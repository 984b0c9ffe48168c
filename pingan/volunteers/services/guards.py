"""What the changes check first: the caller's role, an org unit, grids or teams inside the
caller's scope, and ids and code lists from a path or a form.
"""

from pingan.accounts.models import User
from pingan.accounts.roles import is_manager, is_resident
from pingan.core.errors import Forbidden, ServiceError
from pingan.orgs.models import Grid, OrgUnit
from pingan.orgs.scoping import in_scope, scope_path

from ..validation import MAX_AUDIENCE


def _require_resident(user: User, message: str) -> None:
    if not user.is_authenticated:
        raise Forbidden("请先登录")
    if not is_resident(user):
        raise Forbidden(message)


def _require_manager(user: User, message: str) -> None:
    if not is_manager(user) or scope_path(user) is None:
        raise Forbidden(message)


def _org_in_scope(actor: User, org) -> OrgUnit:
    if isinstance(org, str):
        found = OrgUnit.objects.filter(code=org).first()
    elif isinstance(org, OrgUnit):
        found = org
    else:
        found = None
    if found is None or not in_scope(actor, found.path):
        raise ServiceError("bad_org", "所属单位不存在或不在您的辖区内", details={"field": "org"})
    return found


def _grids_in_scope(actor: User, codes, *, field: str = "grids") -> list[Grid]:
    codes = _codes(codes, field=field, label="网格")
    if not codes:
        return []
    prefix = scope_path(actor)
    grids = Grid.objects.filter(code__in=codes, org__path__startswith=prefix or "/")
    found = {g.code: g for g in grids.select_related("org")} if prefix else {}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ServiceError(
            "bad_grid",
            f"网格不存在或不在您的辖区内：{'、'.join(missing[:5])}",
            details={"field": field, "codes": missing[:20]},
        )
    return [found[c] for c in codes]


def _record_id(value) -> int | None:
    """A row id from a path or a form (int or digits); None for anything else, answered 404."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        return None
    return value


def _codes(values, *, field: str, label: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise ServiceError("invalid_input", f"{label}必须是编码列表", details={"field": field})
    codes: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > 32:
            raise ServiceError("invalid_input", f"{label}编码无效", details={"field": field})
        if value.strip() not in codes:
            codes.append(value.strip())
    if len(codes) > MAX_AUDIENCE:
        raise ServiceError(
            "invalid_input", f"{label}最多 {MAX_AUDIENCE} 个", details={"field": field}
        )
    return codes
