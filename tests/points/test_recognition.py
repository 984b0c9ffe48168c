"""Leaderboards and team statistics against a hand-computed November 2026 (Asia/Shanghai).

The fixture (`november`) is built straight in the database so the numbers below can be checked
by hand. Two teams: T1 (东门, office A) and T2 (大坑, office B).

Ledger (local times):
  v1 +30 T1 11-06, +10 T2 11-13, -20 redeem 11-15 (order O2, pending)
  v2 +100 T1 10-15 (October), -50 redeem 11-08 and +50 refund 11-09 (order O1, cancelled),
     +30 T1 11-06
  v3 +20 T1 at 11-01 00:10 (the first minutes of November: still 10-31 in UTC)
  v4 +40 T2 11-13, -30 redeem 11-20 (order O3, verified), +25 T2 at 12-01 00:30 (December)
  citizen +20 tip (no team, office A) 11-20
Tasks: A (office A, 11-05, T1, 5 slots, 3 taken), B (office B, 11-12, T2, 2/2),
  C (office A, 10-20, T1, 3/1), D (office A, 11-25, T1+T2, 4/1), X (office A, 11-15, T1,
  cancelled, 10/0).
Sign-ups: v1 A 3.00 h ✓, v2 A 4.50 h ✓, v3 A checked in but rejected, v4 B 2.00 h ✓,
  v1 B 1.00 h ✓, v1 C 5.00 h ✓ (October), v4 D accepted, not checked in.
Members: T1 v1, v2, v3 (left 11-10), v4 pending; T2 v4, v1 (joined 11-02), v2 (joined 12-05).
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from pingan.accounts.models import Role, User
from pingan.points import ledger, recognition
from pingan.points.models import EntryKind, OrderStatus, RedemptionOrder
from pingan.volunteers.models import (
    Membership,
    MembershipStatus,
    Review,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    Team,
    VolunteerProfile,
)
from tests.conftest import api_client, make_user

from .helpers import make_item, make_shop

pytestmark = pytest.mark.django_db

TZ = recognition.LOCAL_TZ
NOV = date(2026, 11, 1)
OCT = date(2026, 10, 1)
DEC = date(2026, 12, 1)


def at(month, day, hour=10, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


@dataclass
class November:
    world: object
    t1: Team
    t2: Team
    v1: User
    v2: User
    v3: User
    v4: User
    citizen: User
    tasks: dict


def volunteer(username, real_name, phone):
    user = make_user(username, Role.VOLUNTEER, display_name=f"{username}-nick")
    VolunteerProfile.objects.create(
        user=user, real_name=real_name, phone=phone, created_at=at(9, 1), updated_at=at(9, 1)
    )
    return user


def team(code, name, org):
    return Team.objects.create(
        code=code,
        name=name,
        org=org,
        org_path=org.path,
        invite_token=secrets.token_urlsafe(12),
        created_at=at(9, 1),
    )


def member(team_, user, joined, *, status=MembershipStatus.ACTIVE, ended=None):
    return Membership.objects.create(
        team=team_,
        user=user,
        status=status,
        applied_at=joined or at(9, 1),
        joined_at=joined,
        ended_at=ended,
    )


def task(code, org, starts, teams, *, slots, taken, status=TaskStatus.PUBLISHED):
    t = Task.objects.create(
        code=code,
        kind="night_patrol",
        title=f"任务{code}",
        org=org,
        org_path=org.path,
        starts_at=starts,
        ends_at=starts.replace(hour=min(starts.hour + 4, 23)),
        meeting_address="东门广场",
        meeting_lng=114.30,
        meeting_lat=26.30,
        slots=slots,
        taken=taken,
        qr_token=secrets.token_urlsafe(12),
        status=status,
        published_at=at(9, 1),
    )
    t.teams.set(teams)
    return t


def signup(task_, user, team_, *, checked_in=None, hours=None, review=""):
    return Signup.objects.create(
        task=task_,
        user=user,
        team=team_,
        status=SignupStatus.ACCEPTED,
        created_at=at(9, 2),
        accepted_at=at(9, 2),
        checked_in_at=checked_in,
        review=review,
        hours=Decimal(hours or "0"),
    )


def earn(user, n, when, *, team_=None, org=None, ref="t"):
    return ledger.post(
        user, n, EntryKind.EARN, "测试获得", source_type="test", source_ref=ref,
        team=team_, org=org, now=when,
    )  # fmt: skip


def order(user, item, points, status, when, code):
    return RedemptionOrder.objects.create(
        code=code,
        user=user,
        item=item,
        shop=item.shop,
        quantity=1,
        points=points,
        status=status,
        redeem_code=code[-10:],
        created_at=when,
        expires_at=at(12, 30),
    )


@pytest.fixture
def november(world):
    w = world
    t1 = team("YJ-T1", "东门义警队", w.office_a)
    t2 = team("YJ-T2", "大坑义警队", w.office_b)
    v1 = volunteer("v1", "张三丰", "+8613800000001")
    v2 = volunteer("v2", "李四", "+8613800000002")
    v3 = volunteer("v3", "王小五", "+8613800000003")
    v4 = volunteer("v4", "赵六", "+8613800000004")
    member(t1, v1, at(10, 1))
    member(t1, v2, at(10, 1))
    member(t1, v3, at(10, 1), status=MembershipStatus.LEFT, ended=at(11, 10))
    member(t1, v4, None, status=MembershipStatus.PENDING)
    member(t2, v4, at(10, 1))
    member(t2, v1, at(11, 2))
    member(t2, v2, at(12, 5))

    tasks = {
        "A": task("RW-A", w.office_a, at(11, 5, 19), [t1], slots=5, taken=3),
        "B": task("RW-B", w.office_b, at(11, 12, 19), [t2], slots=2, taken=2),
        "C": task("RW-C", w.office_a, at(10, 20, 19), [t1], slots=3, taken=1),
        "D": task("RW-D", w.office_a, at(11, 25, 19), [t1, t2], slots=4, taken=1),
        "X": task(
            "RW-X",
            w.office_a,
            at(11, 15, 19),
            [t1],
            slots=10,
            taken=0,
            status=TaskStatus.CANCELLED,
        ),  # fmt: skip
    }
    ok = Review.CONFIRMED
    signup(tasks["A"], v1, t1, checked_in=at(11, 5, 19, 5), hours="3.00", review=ok)
    signup(tasks["A"], v2, t1, checked_in=at(11, 5, 19, 1), hours="4.50", review=ok)
    signup(tasks["A"], v3, t1, checked_in=at(11, 5, 19, 2), review=Review.REJECTED)
    signup(tasks["B"], v4, t2, checked_in=at(11, 12, 19), hours="2.00", review=ok)
    signup(tasks["B"], v1, t2, checked_in=at(11, 12, 19), hours="1.00", review=ok)
    signup(tasks["C"], v1, t1, checked_in=at(10, 20, 19), hours="5.00", review=ok)
    signup(tasks["D"], v4, t2)

    shop = make_shop(w)
    item = make_item(shop, points_price=10, stock=100)
    earn(v2, 100, at(10, 15), team_=t1, org=w.office_a)
    earn(v1, 30, at(11, 6), team_=t1, org=w.office_a)
    earn(v2, 30, at(11, 6), team_=t1, org=w.office_a)
    earn(v3, 20, at(11, 1, 0, 10), team_=t1, org=w.office_a)
    earn(v1, 10, at(11, 13), team_=t2, org=w.office_b)
    earn(v4, 40, at(11, 13), team_=t2, org=w.office_b)
    earn(w.citizen, 20, at(11, 20), org=w.office_a, ref="tip")
    earn(v4, 25, at(12, 1, 0, 30), team_=t2, org=w.office_b)
    for user, n, kind, when in (
        (v2, -50, EntryKind.REDEEM, at(11, 8)),
        (v2, 50, EntryKind.REFUND, at(11, 9)),
        (v1, -20, EntryKind.REDEEM, at(11, 15)),
        (v4, -30, EntryKind.REDEEM, at(11, 20)),
    ):
        ledger.post(user, n, kind, "兑换", source_type="order", source_ref="o", now=when)
    order(v2, item, 50, OrderStatus.CANCELLED, at(11, 8), "DH-O1-AAAAAAAAA1")
    order(v1, item, 20, OrderStatus.PENDING, at(11, 15), "DH-O2-AAAAAAAAA2")
    order(v4, item, 30, OrderStatus.VERIFIED, at(11, 20), "DH-O3-AAAAAAAAA3")
    order(v2, item, 10, OrderStatus.VERIFIED, at(10, 20), "DH-O4-AAAAAAAAA4")
    return November(w, t1, t2, v1, v2, v3, v4, w.citizen, tasks)


def table(rows):
    return [
        (row["rank"], row["user_id"], row["name"], (row["team"] or {}).get("code"),
         row["points"], str(row["hours"]))
        for row in rows
    ]  # fmt: skip


# --- leaderboard --------------------------------------------------------------------------------


def test_county_leaderboard_for_november(november):
    n = november
    rows = recognition.leaderboard(month=NOV, org=n.world.county)
    # Ties share a rank, more hours first within a tie; refunds, redemptions, October and the
    # 12-01 00:30 entry are not November earnings; the 11-01 00:10 entry is.
    assert table(rows) == [
        (1, n.v1.pk, "张**", "YJ-T1", 40, "4.00"),
        (1, n.v4.pk, "赵*", "YJ-T2", 40, "2.00"),
        (3, n.v2.pk, "李*", "YJ-T1", 30, "4.50"),
        (4, n.citizen.pk, "c******", None, 20, "0.00"),
        (4, n.v3.pk, "王**", "YJ-T1", 20, "0.00"),
    ]


def test_team_leaderboards(november):
    n = november
    assert table(recognition.leaderboard(month=NOV, team=n.t1)) == [
        (1, n.v2.pk, "李*", "YJ-T1", 30, "4.50"),
        (1, n.v1.pk, "张**", "YJ-T1", 30, "3.00"),
        (3, n.v3.pk, "王**", "YJ-T1", 20, "0.00"),
    ]
    assert table(recognition.leaderboard(month=NOV, team=n.t2)) == [
        (1, n.v4.pk, "赵*", "YJ-T2", 40, "2.00"),
        (2, n.v1.pk, "张**", "YJ-T2", 10, "1.00"),
    ]


def test_station_leaderboard_keeps_to_its_subtree(november):
    n = november
    rows = recognition.leaderboard(month=NOV, org=n.world.station_a)
    assert [(r["rank"], r["user_id"], r["points"]) for r in rows] == [
        (1, n.v2.pk, 30),
        (1, n.v1.pk, 30),
        (3, n.citizen.pk, 20),
        (3, n.v3.pk, 20),
    ]
    assert recognition.leaderboard(month=NOV, org=n.world.station_b)[0]["user_id"] == n.v4.pk


def test_other_months_and_limit(november):
    n = november
    october = recognition.leaderboard(month=OCT, org=n.world.county)
    # v1 earned nothing in October but served 5 confirmed hours: listed, ranked below.
    assert [(r["rank"], r["user_id"], r["points"], str(r["hours"])) for r in october] == [
        (1, n.v2.pk, 100, "0.00"),
        (2, n.v1.pk, 0, "5.00"),
    ]
    december = recognition.leaderboard(month=DEC, org=n.world.county)
    assert [(r["user_id"], r["points"]) for r in december] == [(n.v4.pk, 25)]
    assert recognition.leaderboard(month=date(2026, 9, 1), org=n.world.county) == []
    top2 = recognition.leaderboard(month=NOV, org=n.world.county, limit=2)
    assert [r["user_id"] for r in top2] == [n.v1.pk, n.v4.pk]


def test_no_phone_numbers_or_full_names(november):
    rows = recognition.leaderboard(month=NOV, org=november.world.county)
    text = repr(rows)
    for secret in ("张三丰", "李四", "13800000001", "v1-nick"):
        assert secret not in text


# --- team statistics ----------------------------------------------------------------------------


def figures(row):
    return {
        k: row[k]
        for k in (
            "members", "active", "tasks", "slots", "filled", "points_issued", "points_redeemed",
        )
    } | {"hours": str(row["hours"]), "fill_rate": round(row["fill_rate"], 4)}  # fmt: skip


def test_team_stats_for_november(november):
    n = november
    rows = recognition.team_stats(org=n.world.county, start=NOV, end=date(2026, 11, 30))
    assert [r["team"]["code"] if r["team"] else "total" for r in rows] == [
        "YJ-T1",
        "YJ-T2",
        "total",
    ]
    t1, t2, total = rows
    assert figures(t1) == {
        "members": 2,  # v3 left on 11-10; v4 is only an applicant
        "active": 3,  # v1, v2 and v3 checked in (v3's work was not confirmed)
        "tasks": 2,  # A and D; X was cancelled, C is October's
        "slots": 9,
        "filled": 4,
        "points_issued": 80,  # 30 + 30 + 20
        "points_redeemed": 20,  # v1's pending O2; v2's O1 was cancelled
        "hours": "7.50",
        "fill_rate": round(4 / 9, 4),
    }
    assert figures(t2) == {
        "members": 2,  # v4 and v1; v2 joined in December
        "active": 2,
        "tasks": 2,
        "slots": 6,
        "filled": 3,
        "points_issued": 50,  # 40 + 10; the 12-01 00:30 entry is December's
        "points_redeemed": 50,  # v4's O3 (30) and v1's O2 (20)
        "hours": "3.00",
        "fill_rate": 0.5,
    }
    assert total["is_total"] and total["team"] is None
    assert figures(total) == {
        "members": 3,  # v1 counted once
        "active": 4,
        "tasks": 3,  # D counted once
        "slots": 11,
        "filled": 6,
        "points_issued": 130,
        "points_redeemed": 50,  # v1's O2 counted once
        "hours": "10.50",
        "fill_rate": round(6 / 11, 4),
    }


def test_team_stats_scope_and_empty_period(november):
    n = november
    rows = recognition.team_stats(org=n.world.station_a, start=NOV, end=date(2026, 11, 30))
    assert [r["team"]["code"] for r in rows if not r["is_total"]] == ["YJ-T1"]
    assert rows[-1]["members"] == 2 and rows[-1]["points_issued"] == 80
    empty = recognition.team_stats(
        org=n.world.county, start=date(2026, 9, 1), end=date(2026, 9, 30)
    )
    assert empty[-1]["tasks"] == 0 and empty[-1]["fill_rate"] is None
    # At the end of September nobody had joined yet.
    assert [r["members"] for r in empty] == [0, 0, 0]


def test_team_stats_one_day(november):
    n = november
    rows = recognition.team_stats(
        org=n.world.county, start=date(2026, 11, 5), end=date(2026, 11, 5)
    )
    t1 = rows[0]
    assert (t1["tasks"], t1["active"], str(t1["hours"]), t1["points_issued"]) == (1, 3, "7.50", 0)


def test_bad_periods_are_refused_in_chinese(world):
    with pytest.raises(recognition.ServiceError) as exc:
        recognition.team_stats(org=world.county, start=date(2026, 12, 1), end=date(2026, 11, 1))
    assert exc.value.message == "起始日期不能晚于截止日期"
    for raw in ("2026-13", "2026/11", "11-2026", "２０２６-11", "2026-1-1"):
        with pytest.raises(recognition.ServiceError) as exc:
            recognition.parse_month(raw)
        assert "月" in exc.value.message
    for raw in ("2026-02-30", "2026-11", "abc", "2026-11-xx"):
        with pytest.raises(recognition.ServiceError) as exc:
            recognition.parse_day(raw, field="from", label="起始日期")
        assert exc.value.message.startswith("起始日期")
    assert recognition.parse_month("2026-03") == date(2026, 3, 1)


# --- Excel --------------------------------------------------------------------------------------


def sheet_rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_excel_has_the_same_numbers(november):
    n = november
    data = recognition.export_xlsx(org=n.world.county, start=NOV, end=date(2026, 11, 30))
    book = load_workbook(BytesIO(data))
    assert book.sheetnames == ["队伍统计", "单位排行", "各队排行"]
    stats = sheet_rows(book["队伍统计"])
    assert stats[0][0] == "义警队伍统计（平安县公安局，2026-11-01 至 2026-11-30）"
    body = {row[0]: row for row in stats[3:6]}
    assert body["东门义警队"][1:] == [
        "东门警务室",
        2,
        3,
        7.5,
        2,
        9,
        4,
        pytest.approx(4 / 9),
        80,
        20,
    ]
    assert body["大坑义警队"][1:] == ["大坑警务室", 2, 2, 3.0, 2, 6, 3, 0.5, 50, 50]
    assert body["合计"][1:] == [
        "平安县公安局",
        3,
        4,
        10.5,
        3,
        11,
        6,
        pytest.approx(6 / 11),
        130,
        50,
    ]
    board = sheet_rows(book["单位排行"])
    assert board[3:8] == [
        [1, "张**", "东门义警队", 40, 4.0],
        [1, "赵*", "大坑义警队", 40, 2.0],
        [3, "李*", "东门义警队", 30, 4.5],
        [4, "c******", None, 20, 0.0],
        [4, "王**", "东门义警队", 20, 0.0],
    ]
    teams = sheet_rows(book["各队排行"])
    assert teams[3:] == [
        ["东门义警队", 1, "李*", 30, 4.5],
        ["东门义警队", 1, "张**", 30, 3.0],
        ["东门义警队", 3, "王**", 20, 0.0],
        ["大坑义警队", 1, "赵*", 40, 2.0],
        ["大坑义警队", 2, "张**", 10, 1.0],
    ]
    flat = repr([stats, board, teams])
    assert "张三丰" not in flat and "138" not in flat


# --- API ----------------------------------------------------------------------------------------


def get(user, url):
    return api_client(user).get(url)


def test_api_leaderboard_for_staff(november):
    n = november
    response = get(n.world.commander, "/api/points/leaderboard?month=2026-11")
    assert response.status_code == 200
    body = response.json()
    assert body["month"] == "2026-11"
    assert body["scope"] == {"kind": "org", "code": "360827", "name": "平安县公安局"}
    assert [(r["rank"], r["name"], r["points"], r["hours"]) for r in body["rows"]][:3] == [
        (1, "张**", 40, 4.0),
        (1, "赵*", 40, 2.0),
        (3, "李*", 30, 4.5),
    ]
    team = get(n.world.officer_a, "/api/points/leaderboard?month=2026-11&team=YJ-T1").json()
    assert team["scope"]["kind"] == "team"
    assert [r["points"] for r in team["rows"]] == [30, 30, 20]
    station = get(n.world.chief_a, "/api/points/leaderboard?month=2026-11").json()
    assert station["scope"]["code"] == "S-A"
    assert n.v4.pk not in [r["user_id"] for r in station["rows"]]


def test_api_leaderboard_outside_scope_is_404(november):
    n = november
    for url in (
        "/api/points/leaderboard?month=2026-11&team=YJ-T2",
        "/api/points/leaderboard?month=2026-11&org=S-B",
        "/api/points/leaderboard?month=2026-11&org=360827",
        "/api/points/leaderboard?month=2026-11&team=NOPE",
    ):
        response = get(n.world.chief_a, url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
        assert "赵" not in response.content.decode()


def test_api_leaderboard_for_volunteers(november):
    n = november
    ok = get(n.v1, "/api/points/leaderboard?month=2026-11&team=YJ-T1")
    assert ok.status_code == 200 and [r["points"] for r in ok.json()["rows"]] == [30, 30, 20]
    assert get(n.v1, "/api/points/leaderboard?month=2026-11&team=YJ-T2").status_code == 200
    # v3 left T1; v4 only applied to it; nobody outside a team sees its board.
    assert get(n.v3, "/api/points/leaderboard?team=YJ-T1").status_code == 404
    assert get(n.v4, "/api/points/leaderboard?team=YJ-T1").status_code == 404
    assert get(n.citizen, "/api/points/leaderboard?team=YJ-T1").status_code == 404
    for user in (n.v1, n.citizen):
        for url in ("/api/points/leaderboard", "/api/points/leaderboard?org=360827"):
            response = get(user, url)
            assert response.status_code == 403, url
            assert response.json()["error"]["message"] == "只能查看本人所在队伍的积分排行"
    assert api_client().get("/api/points/leaderboard").status_code == 401


def test_api_leaderboard_bad_input(november):
    n = november
    for url in (
        "/api/points/leaderboard?month=2026-13",
        "/api/points/leaderboard?month=abc",
        "/api/points/leaderboard?team=YJ-T1&org=S-A",
        "/api/points/leaderboard?team=" + "x" * 40,
    ):
        response = get(n.world.commander, url)
        assert response.status_code == 400, url
        assert response.json()["error"]["message"]
    # A limit out of range is refused, never silently clamped (the pagination rule).
    for limit in ("abc", "0", "201", "true"):
        response = get(n.world.commander, f"/api/points/leaderboard?limit={limit}")
        assert response.status_code == 422, limit
    assert get(n.world.commander, "/api/points/leaderboard?limit=200").status_code == 200


def test_api_stats(november):
    n = november
    response = get(n.world.commander, "/api/points/stats?from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-30"}
    assert [t["team"]["code"] for t in body["teams"]] == ["YJ-T1", "YJ-T2"]
    assert body["teams"][0]["hours"] == 7.5 and body["teams"][0]["points_redeemed"] == 20
    assert body["totals"]["active"] == 4 and body["totals"]["points_issued"] == 130
    assert body["totals"]["fill_rate"] == pytest.approx(6 / 11)
    mine = get(n.world.officer_a, "/api/points/stats?from=2026-11-01&to=2026-11-30").json()
    assert [t["team"]["code"] for t in mine["teams"]] == ["YJ-T1"]
    narrowed = get(n.world.commander, "/api/points/stats?from=2026-11-01&to=2026-11-30&org=S-B")
    assert [t["team"]["code"] for t in narrowed.json()["teams"]] == ["YJ-T2"]


def test_api_stats_denials_and_bad_input(november):
    n = november
    assert get(n.world.chief_a, "/api/points/stats?org=S-B").status_code == 404
    assert get(n.world.chief_a, "/api/points/stats?org=nope").status_code == 404
    for user in (n.v1, n.citizen, make_user("clerk_x", Role.CLERK)):
        response = get(user, "/api/points/stats")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert api_client().get("/api/points/stats").status_code == 401
    for query in (
        "from=2026-11-31",
        "from=2026-12-01&to=2026-11-01",
        "from=2020-01-01&to=2026-01-01",
    ):
        response = get(n.world.commander, f"/api/points/stats?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["message"]


def test_query_counts_do_not_grow_with_rows(november, django_assert_num_queries):
    n = november
    # Ledger sums, hour sums, names, team labels: four queries whatever the number of people.
    with django_assert_num_queries(4):
        recognition.leaderboard(month=NOV, org=n.world.county)
    # Teams, members, sign-ups, tasks, points issued, orders: six, whatever the number of teams.
    with django_assert_num_queries(6):
        recognition.team_stats(org=n.world.county, start=NOV, end=date(2026, 11, 30))
