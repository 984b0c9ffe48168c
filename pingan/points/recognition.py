"""Recognition: monthly leaderboards, team statistics for the console, and their scope rules.

Read-only queries over the ledger, the sign-ups and the orders; nothing here writes. Months and
days are Asia/Shanghai calendar periods, turned into UTC bounds before they reach the database.

What the figures mean (the page and the Excel sheet say the same in Chinese):

* Points earned are EARN entries only: a refund of a cancelled order gives back what was spent,
  it is not earned, and redemptions, expiry and adjustments are not earnings either. An entry
  counts in the month it was written (for task work: when the officer confirmed it).
* Hours are confirmed service hours (`Signup.hours`), counted in the period the volunteer
  checked in, i.e. when the service was done.
* A leaderboard per team ranks what was earned through that team (entries carrying the team,
  hours of sign-ups made through it); per org unit, what was earned in the unit's subtree
  (entries carrying an org in it, hours on its tasks). Equal points share a rank (1, 2, 2, 4);
  within a tie, more hours first.
* Team statistics, one row per team of the unit's subtree:
  members at the end of the period; active = distinct members who checked in on a task through
  the team during the period; hours as above; tasks = tasks offered to the team starting in the
  period and not cancelled, with their slots and accepted sign-ups (`taken`) and the fill rate
  filled / slots (a task offered to two teams counts for both); points issued = EARN entries
  carrying the team; points redeemed = points of orders (pending or verified) placed in the
  period by the team's members. The totals row combines the teams without counting anyone or
  any task twice.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum

from pingan.accounts.models import User
from pingan.core.errors import Forbidden, NotFound, ServiceError
from pingan.core.masking import mask_name
from pingan.orgs.models import OrgUnit
from pingan.orgs.services import scope_org
from pingan.volunteers.models import Membership, MembershipStatus, Review, Signup, Task, Team

from .models import EntryKind, OrderStatus, PointEntry, RedemptionOrder

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MAX_LIMIT = 500
MAX_PERIOD_DAYS = 3 * 366
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
SPENT_STATUSES = (OrderStatus.PENDING, OrderStatus.VERIFIED)
ZERO_HOURS = Decimal("0.00")


# --- periods ------------------------------------------------------------------------------------


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant of the local month, first instant of the next) as aware datetimes."""
    first = date(month.year, month.month, 1)
    return local_midnight(first), local_midnight(next_month(first))


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The closed range of local days start..end as a half-open range of instants."""
    return local_midnight(start), local_midnight(end + timedelta(days=1))


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def current_month(now) -> date:
    local = now.astimezone(LOCAL_TZ)
    return date(local.year, local.month, 1)


def month_end(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def parse_month(raw, *, field: str = "month", label: str = "月份") -> date | None:
    """ "2026-11" -> date(2026, 11, 1); "" -> None; anything else a Chinese ServiceError."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    parts = text.split("-")
    if (
        len(parts) != 2
        or len(parts[0]) != 4
        or not 1 <= len(parts[1]) <= 2
        or not all(p.isascii() and p.isdigit() for p in parts)
    ):
        raise ServiceError(
            "bad_month", f"{label}格式应为 年-月，例如 2026-11", details={"field": field}
        )
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise ServiceError("bad_month", f"{label}的月份应在 1 到 12 之间", details={"field": field})
    value = date(year, month, 1)
    if not EARLIEST <= value <= LATEST:
        raise ServiceError("bad_month", f"{label}超出可统计的范围", details={"field": field})
    return value


def parse_day(raw, *, field: str, label: str) -> date | None:
    """ "2026-11-23" -> date; "" -> None; anything else a Chinese ServiceError."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    message = f"{label}格式应为 年-月-日，例如 2026-11-23"
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and p for p in parts):
        raise ServiceError("bad_date", message, details={"field": field})
    try:
        value = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError as exc:
        raise ServiceError("bad_date", f"{label}不是有效日期", details={"field": field}) from exc
    if not EARLIEST <= value <= LATEST:
        raise ServiceError("bad_date", f"{label}超出可统计的范围", details={"field": field})
    return value


def default_period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """Missing ends: the month of the other end, or this month up to today."""
    if end is None:
        end = max(today, start) if start is not None else today
    if start is None:
        start = end.replace(day=1)
    return start, end


def validate_period(start: date, end: date) -> None:
    if start > end:
        raise ServiceError("bad_period", "起始日期不能晚于截止日期", details={"field": "from"})
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ServiceError("bad_period", "统计区间最长 3 年", details={"field": "from"})


# --- who may see what ---------------------------------------------------------------------------


def may_view_stats(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.is_staff_role))


def stats_root(user) -> OrgUnit | None:
    """The unit whose subtree a staff user's figures cover (None: everything, superusers)."""
    if not may_view_stats(user):
        raise Forbidden("只有民警、辅警和指挥员可以查看义警统计")
    if user.is_superuser:
        return None
    root = scope_org(user)
    if root is None:
        raise Forbidden("您的账号未关联单位，无法查看统计")
    return root


def _code(raw, field: str, label: str) -> str:
    code = raw.strip() if isinstance(raw, str) else ""
    if len(code) > 32 or "\x00" in code:
        raise ServiceError("bad_code", f"{label}编码无效", details={"field": field})
    return code


def org_in_scope(user, org_code: str = "") -> OrgUnit | None:
    """The unit asked for, or the user's own scope. Outside the scope is the same 404 as a unit
    that does not exist, so unit codes cannot be probed."""
    root = stats_root(user)
    code = _code(org_code, "org", "单位")
    if not code:
        return root
    org = OrgUnit.objects.filter(code=code).first()
    if org is None or (root is not None and not org.path.startswith(root.path)):
        raise NotFound("未找到该单位，或不在您的辖区内")
    return org


def teams_in(org: OrgUnit | None):
    qs = Team.objects.all()
    if org is not None:
        qs = qs.filter(org_path__startswith=org.path)
    return qs.order_by("org_path", "name", "pk")


def own_teams(user):
    """Teams a volunteer is an active member of."""
    live = Membership.objects.filter(user=user, status=MembershipStatus.ACTIVE).values("team_id")
    return Team.objects.filter(pk__in=live)


@dataclass(frozen=True)
class Board:
    """What a leaderboard is about: one team, or one unit's subtree (None: everything)."""

    team: Team | None
    org: OrgUnit | None

    @property
    def title(self) -> str:
        if self.team is not None:
            return self.team.name
        return self.org.name if self.org is not None else "全部"


def board_for(user, *, team_code: str = "", org_code: str = "") -> Board:
    """Staff: a team or a unit inside their scope (default: their scope). Volunteers: only a
    team they are an active member of. Everything else is a 404 or 403, never a peek."""
    if not user.is_authenticated:
        raise Forbidden("请先登录")
    team_code = _code(team_code, "team", "队伍")
    org_code = _code(org_code, "org", "单位")
    if team_code and org_code:
        raise ServiceError("bad_board", "队伍和单位只能选择一个", details={"field": "team"})
    if may_view_stats(user):
        if team_code:
            root = stats_root(user)
            team = teams_in(root).filter(code=team_code).select_related("org").first()
            if team is None:
                raise NotFound("未找到该队伍，或不在您的辖区内")
            return Board(team=team, org=team.org)
        return Board(team=None, org=org_in_scope(user, org_code))
    if not team_code or org_code:
        raise Forbidden("只能查看本人所在队伍的积分排行")
    team = own_teams(user).filter(code=team_code).select_related("org").first()
    if team is None:
        raise NotFound("未找到该队伍，或您不是该队队员")
    return Board(team=team, org=team.org)


# --- leaderboard --------------------------------------------------------------------------------


def display_name(user: User, profile_name: str | None) -> str:
    """A volunteer's real name from the profile, else the account name; always masked."""
    return mask_name(profile_name or user.display_name or user.username)


def _names(user_ids) -> dict[int, str]:
    users = User.objects.filter(pk__in=user_ids).select_related("volunteer_profile")
    names = {}
    for u in users:
        profile = getattr(u, "volunteer_profile", None)
        names[u.pk] = display_name(u, profile.real_name if profile else None)
    return names


def _team_label(team: Team | None) -> dict | None:
    return {"code": team.code, "name": team.name} if team is not None else None


def leaderboard(*, month: date, team=None, org=None, limit: int = 50) -> list[dict]:
    """Ranked rows for one local month: {rank, user_id, name (masked), team, points, hours}.

    `team` (a Team) ranks what was earned through that team; otherwise `org` (an OrgUnit, None
    for everything) ranks what was earned in its subtree. Only people with points or hours in
    the month appear."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    start, end = month_bounds(month)
    entries = PointEntry.objects.filter(
        kind=EntryKind.EARN, created_at__gte=start, created_at__lt=end
    )
    signups = Signup.objects.filter(
        review=Review.CONFIRMED, checked_in_at__gte=start, checked_in_at__lt=end
    )
    if team is not None:
        entries = entries.filter(team=team)
        signups = signups.filter(team=team)
    elif org is not None:
        entries = entries.filter(org_path__startswith=org.path)
        signups = signups.filter(task__org_path__startswith=org.path)

    points: dict[int, int] = {}
    by_team: dict[int, dict[int | None, int]] = {}
    for user_id, team_id, total in (
        entries.order_by().values_list("user_id", "team_id").annotate(total=Sum("amount"))
    ):
        points[user_id] = points.get(user_id, 0) + int(total)
        by_team.setdefault(user_id, {})[team_id] = int(total)
    hours: dict[int, Decimal] = {}
    for user_id, team_id, total in (
        signups.order_by().values_list("user_id", "team_id").annotate(total=Sum("hours"))
    ):
        hours[user_id] = hours.get(user_id, ZERO_HOURS) + (total or ZERO_HOURS)
        # Hours also tell which team someone served with when the points carry none.
        by_team.setdefault(user_id, {}).setdefault(team_id, 0)

    user_ids = set(points) | set(hours)
    if not user_ids:
        return []
    ordered = sorted(user_ids, key=lambda u: (-points.get(u, 0), -hours.get(u, ZERO_HOURS), u))[
        :limit
    ]
    names = _names(ordered)
    team_ids = set()
    for u in ordered:
        team_ids |= {t for t in by_team.get(u, {}) if t is not None}
    teams = {t.pk: t for t in Team.objects.filter(pk__in=team_ids)} if team is None else {}

    rows = []
    rank = 0
    previous = None
    for position, user_id in enumerate(ordered, start=1):
        score = points.get(user_id, 0)
        if score != previous:
            rank, previous = position, score
        if team is not None:
            label = _team_label(team)
        else:
            # The team the person earned most through this month.
            candidates = {t: n for t, n in by_team.get(user_id, {}).items() if t in teams}
            best = max(candidates, key=lambda t: (candidates[t], -t), default=None)
            label = _team_label(teams.get(best))
        rows.append(
            {
                "rank": rank,
                "user_id": user_id,
                "name": names.get(user_id, ""),
                "team": label,
                "points": score,
                "hours": hours.get(user_id, ZERO_HOURS).quantize(Decimal("0.01")),
            }
        )
    return rows


# --- team statistics ----------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def team_stats(*, org, start: date, end: date) -> list[dict]:
    """One row per team in `org`'s subtree (None: every team), then a totals row
    (`is_total` True). See the module docstring for what each figure counts."""
    validate_period(start, end)
    begin, finish = period_bounds(start, end)
    teams = list(teams_in(org).select_related("org"))
    team_ids = [t.pk for t in teams]

    members: dict[int, set[int]] = {t: set() for t in team_ids}
    for team_id, user_id in (
        Membership.objects.filter(
            team_id__in=team_ids, joined_at__isnull=False, joined_at__lt=finish
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=finish))
        .values_list("team_id", "user_id")
    ):
        members[team_id].add(user_id)

    active: dict[int, set[int]] = {t: set() for t in team_ids}
    hours: dict[int, Decimal] = dict.fromkeys(team_ids, ZERO_HOURS)
    for team_id, user_id, review, served in Signup.objects.filter(
        team_id__in=team_ids, checked_in_at__gte=begin, checked_in_at__lt=finish
    ).values_list("team_id", "user_id", "review", "hours"):
        active[team_id].add(user_id)
        if review == Review.CONFIRMED:
            hours[team_id] += served or ZERO_HOURS

    tasks: dict[int, set[int]] = {t: set() for t in team_ids}
    task_size: dict[int, tuple[int, int]] = {}
    for team_id, task_id, slots, taken in (
        Task.teams.through.objects.filter(
            team_id__in=team_ids,
            task__starts_at__gte=begin,
            task__starts_at__lt=finish,
        )
        .exclude(task__status="cancelled")
        .values_list("team_id", "task_id", "task__slots", "task__taken")
    ):
        tasks[team_id].add(task_id)
        task_size[task_id] = (slots, taken)

    issued = dict.fromkeys(team_ids, 0)
    for team_id, total in (
        PointEntry.objects.filter(
            kind=EntryKind.EARN,
            team_id__in=team_ids,
            created_at__gte=begin,
            created_at__lt=finish,
        )
        .order_by()
        .values_list("team_id")
        .annotate(total=Sum("amount"))
    ):
        issued[team_id] = int(total)

    everyone = set().union(*members.values()) if members else set()
    spent: dict[int, int] = {}
    if everyone:
        for user_id, total in (
            RedemptionOrder.objects.filter(
                user_id__in=everyone,
                status__in=SPENT_STATUSES,
                created_at__gte=begin,
                created_at__lt=finish,
            )
            .order_by()
            .values_list("user_id")
            .annotate(total=Sum("points"))
        ):
            spent[user_id] = int(total)

    def figures(member_ids, active_ids, task_ids, served, points_issued) -> dict:
        slots = sum(task_size[t][0] for t in task_ids)
        filled = sum(task_size[t][1] for t in task_ids)
        return {
            "members": len(member_ids),
            "active": len(active_ids),
            "hours": served.quantize(Decimal("0.01")),
            "tasks": len(task_ids),
            "slots": slots,
            "filled": filled,
            "fill_rate": _ratio(filled, slots),
            "points_issued": points_issued,
            "points_redeemed": sum(spent.get(u, 0) for u in member_ids),
        }

    rows = []
    for team in teams:
        t = team.pk
        rows.append(
            {
                "is_total": False,
                "team": {"code": team.code, "name": team.name},
                "org": {"code": team.org.code, "name": team.org.name},
                "active_team": team.active,
                **figures(members[t], active[t], tasks[t], hours[t], issued[t]),
            }
        )
    rows.append(
        {
            "is_total": True,
            "team": None,
            "org": {"code": org.code, "name": org.name} if org is not None else None,
            "active_team": True,
            **figures(
                everyone,
                set().union(*active.values()) if active else set(),
                set().union(*tasks.values()) if tasks else set(),
                sum(hours.values(), ZERO_HOURS),
                sum(issued.values()),
            ),
        }
    )
    return rows


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def export_xlsx(*, org, start: date, end: date, month: date | None = None, team=None) -> bytes:
    """The statistics as an Excel workbook: team statistics for start..end, the unit's
    leaderboard for `month` (default: the month of `end`) and each team's leaderboard (or only
    `team`'s). Names are masked as on the page."""
    from .export import workbook_bytes  # the workbook layout lives apart from the figures

    return workbook_bytes(org=org, start=start, end=end, month=month, team=team)
