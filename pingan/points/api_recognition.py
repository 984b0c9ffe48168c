"""Recognition endpoints, mounted at /api/points beside the shop's router.

* `GET /leaderboard?month=YYYY-MM&team=<code>` or `&org=<code>`: the monthly leaderboard of one
  team or one unit's subtree (default: the current month, the caller's whole scope). Staff see
  teams and units in their scope; a volunteer sees the teams they are an active member of.
* `GET /stats?from=YYYY-MM-DD&to=YYYY-MM-DD&org=<code>`: team statistics (staff only; default:
  this month so far, the caller's scope).

A team or unit outside the caller's scope is a 404, exactly like one that does not exist.
Names are masked on the server; no phone number is in either answer.
"""

from ninja import Query, Router

from pingan.core import clock
from pingan.core.api_auth import REQUIRED
from pingan.core.pagination import MAX_LIMIT
from pingan.core.schemas import QueryText

from . import recognition as r
from .schemas import LeaderboardOut, TeamStatsOut

router = Router(tags=["points"], auth=REQUIRED)

# A team or unit code: longer than any code, so the service answers a wrong one itself (400).
CodeText = QueryText(64)


def _board_row(row: dict) -> dict:
    return {**row, "hours": float(row["hours"])}


def _stats_row(row: dict) -> dict:
    out = {key: value for key, value in row.items() if key not in ("is_total", "active_team")}
    out["hours"] = float(row["hours"])
    if not row["is_total"]:
        out["team_active"] = row["active_team"]
    return out


def _scope(board: r.Board) -> dict:
    if board.team is not None:
        return {"kind": "team", "code": board.team.code, "name": board.team.name}
    org = board.org
    return {"kind": "org", "code": org.code if org else "", "name": org.name if org else "全部"}


@router.get(
    "/leaderboard",
    response=LeaderboardOut,
    summary="积分排行 · Monthly leaderboard of a team or an org unit",
    description=(
        "`month` is YYYY-MM (Asia/Shanghai; default the current month). Give `team` or `org` "
        "(a code), not both. Points are EARN entries written in the month (refunds are not "
        "earnings); hours are confirmed hours of tasks checked in that month. Equal points "
        "share a rank."
    ),
)
def leaderboard(
    request,
    month: QueryText(20) = "",
    team: CodeText = "",
    org: CodeText = "",
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description=f"Rows, 1-{MAX_LIMIT}; more is refused"),
):
    user = request.auth
    chosen = r.parse_month(month) or r.current_month(clock.now())
    board = r.board_for(user, team_code=team, org_code=org)
    rows = r.leaderboard(month=chosen, team=board.team, org=board.org, limit=limit)
    return {
        "month": r.month_key(chosen),
        "scope": _scope(board),
        "rows": [_board_row(row) for row in rows],
    }


@router.get(
    "/stats",
    response=TeamStatsOut,
    by_alias=True,  # the period's `from`
    summary="义警统计 · Team statistics for a period",
    description=(
        "Staff only, within their scope. `from` / `to` are days (YYYY-MM-DD, inclusive, "
        "Asia/Shanghai; default the current month up to today); `org` narrows to one unit of "
        "the scope. One row per team plus `totals` (people and tasks counted once)."
    ),
)
def stats(
    request,
    from_: QueryText(20) = Query("", alias="from"),  # noqa: B008
    to: QueryText(20) = "",
    org: CodeText = "",
):
    user = request.auth
    root = r.org_in_scope(user, org)
    today = clock.now().astimezone(r.LOCAL_TZ).date()
    start, end = r.default_period(
        r.parse_day(from_, field="from", label="起始日期"),
        r.parse_day(to, field="to", label="截止日期"),
        today,
    )
    rows = r.team_stats(org=root, start=start, end=end)
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "scope": {"code": root.code if root else "", "name": root.name if root else "全部"},
        "teams": [_stats_row(row) for row in rows if not row["is_total"]],
        "totals": _stats_row(rows[-1]),
    }
