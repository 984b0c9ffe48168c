"""The one way points move: `post` an entry while the person's account row is locked.

Earning, spending, refunding and expiring all come through here, so the two invariants hold in
one place: a balance is the sum of the entries, and no debit takes it below zero, whatever
runs at the same time. Awards carry a dedupe key, so crediting the same act twice (a retried
task, a sweep that overlaps a manual call) writes nothing the second time.
"""

from django.db import transaction
from django.db.models import Sum

from pingan.core import clock
from pingan.core.errors import Conflict, ServiceError

from .models import EntryKind, PointAccount, PointEntry, PointRule


def balance(user) -> int:
    total = PointEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)


def lock_account(user, now=None) -> PointAccount:
    """Open the account on first use and lock it for the rest of the transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_account must run inside a transaction")
    # One query on the hot path; the account is created only the first time.
    account = PointAccount.objects.select_for_update().filter(user_id=user.pk).first()
    if account is None:
        PointAccount.objects.get_or_create(
            user_id=user.pk, defaults={"opened_at": now or clock.now()}
        )
        account = PointAccount.objects.select_for_update().get(user_id=user.pk)
    return account


def post(
    user,
    amount: int,
    kind: str,
    reason: str,
    *,
    source_type: str,
    source_ref: str,
    rule: str = "",
    org=None,
    team=None,
    dedupe_key: str | None = None,
    actor=None,
    now=None,
) -> PointEntry | None:
    """Write one entry. Returns None when `dedupe_key` was already used (nothing written).
    Raises Conflict("insufficient_points") when a debit would leave the balance negative."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise ServiceError("bad_amount", "积分数额必须是非零整数")
    if kind not in EntryKind.values:
        raise ServiceError("bad_kind", "积分类型无效")
    now = now or clock.now()
    with transaction.atomic():
        lock_account(user, now)
        if dedupe_key and PointEntry.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        if amount < 0:
            current = balance(user)
            if current + amount < 0:
                raise Conflict(
                    "insufficient_points",
                    f"积分不足：需要 {-amount} 分，当前余额 {current} 分",
                )
        return PointEntry.objects.create(
            user=user,
            amount=amount,
            kind=kind,
            rule=rule,
            reason=reason[:200],
            source_type=source_type,
            source_ref=source_ref[:40],
            org=org,
            org_path=org.path if org is not None else "",
            team=team,
            dedupe_key=dedupe_key,
            created_at=now,
            created_by=actor,
        )


def rule_points(code: str, *, task_kind: str | None = None) -> int:
    """Points one unit of `code` earns now: 0 when the rule is missing, inactive, or does not
    apply to this kind of task."""
    rule = PointRule.objects.filter(code=code, active=True).first()
    if rule is None:
        return 0
    if task_kind is not None and rule.task_kinds and task_kind not in rule.task_kinds:
        return 0
    return rule.points


def award(
    user,
    code: str,
    reason: str,
    *,
    units: float = 1,
    task_kind: str | None = None,
    source_type: str,
    source_ref: str,
    dedupe_key: str,
    org=None,
    team=None,
    actor=None,
    now=None,
) -> PointEntry | None:
    """Credit `units` × the rule's points (rounded down). None when that comes to nothing or
    the act was already credited."""
    amount = int(rule_points(code, task_kind=task_kind) * units)
    if amount <= 0:
        return None
    return post(
        user,
        amount,
        EntryKind.EARN,
        reason,
        source_type=source_type,
        source_ref=source_ref,
        rule=code,
        org=org,
        team=team,
        dedupe_key=dedupe_key,
        actor=actor,
        now=now,
    )
