"""Dispute statistics: figures against hand-computed expectations, the cells kept in step by
every service, who may see which numbers, the page and the Excel export."""

import random
import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from io import BytesIO
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from openpyxl import load_workbook

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.core.errors import Forbidden, NotFound, ServiceError
from pingan.disputes import bulk, queries, services
from pingan.disputes.models import (
    OPEN_STATUSES,
    SETTLED_STATUSES,
    Channel,
    Dispute,
    DisputeType,
    Risk,
    StatCell,
    Status,
)
from pingan.disputes.services import PartyInput
from pingan.disputes.stats import MAX_DAYS_BUCKET, rebuild_stats
from tests.conftest import PASSWORD, make_user

from .helpers import file

pytestmark = pytest.mark.django_db
STATS_URL = "/console/disputes/stats/"
EXPORT_URL = "/console/disputes/stats.xlsx"
LOCAL = ZoneInfo("Asia/Shanghai")


def at(month, day, hour=10, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL)


def pair(i):
    """Two parties nobody else has, so the repeat rule stays quiet unless a test wants it."""
    return [
        PartyInput(name=f"甲{i}", role="applicant", phone=f"1380013{i:04d}"),
        PartyInput(name=f"乙{i}", role="respondent", phone=f"1390013{i:04d}"),
    ]


def route(user, code, now, route="grassroots", body_kind="village_committee"):
    services.set_route(
        user,
        code,
        route=route,
        body_kind=body_kind,
        body_name="东门社区居委会",
        contact_name="张主任",
        now=now,
    )


@pytest.fixture
def chief_b(world):
    return make_user("chief_b", Role.COMMANDER, world.station_b)


@pytest.fixture
def root(world):
    return User.objects.create_superuser(username="root", password=PASSWORD)


@pytest.fixture
def seven(world):
    """Seven disputes with known outcomes (times are Beijing time):

    d1 GA1 neighbour/cadre_grid, 09-05, grassroots route, resolved 09-08 (3 days)
    d2 GA1 labour_wages/community_work, 09-20, resolved 10-01, relapsed 10-08 (yellow),
       resolved again 10-20 (30 days from registration)
    d3 GB1 debt/online, 10-03, threat of violence (red), open
    d4 GA1 marriage_family/case, 10-01 00:30 (still 09-30 in UTC), judicial route, open
    d5 GA1 land_housing/citizen_request, 10-12, declined
    d6 GB1 neighbour/cadre_grid, 11-02, resolved 11-03 (1 day), both visits hold: closed
    d7 GA1 debt/community_work, 11-05, resolved 11-06, relapsed 11-13 (yellow), open
    """
    w = world
    d1 = file(w, parties=pair(1), channel="cadre_grid", now=at(9, 5))
    route(w.officer_a, d1.code, at(9, 6))
    services.resolve(w.officer_a, d1.code, "双方和解", now=at(9, 8))

    d2 = file(
        w,
        type="labour_wages",
        channel="community_work",
        narrative="工地拖欠工资三个月",
        parties=pair(2),
        now=at(9, 20),
    )
    services.resolve(w.officer_a, d2.code, "已支付一半", now=at(10, 1))
    services.record_visit(w.officer_a, d2.code, holds=False, note="余款未付", now=at(10, 8))
    services.resolve(w.officer_a, d2.code, "余款付清", now=at(10, 20))

    d3 = file(
        w,
        user=w.officer_b,
        grid_code=w.grid_b.code,
        type="debt",
        channel="online",
        narrative="借钱不还，债主在群里扬言要砍死对方",
        parties=pair(3),
        now=at(10, 3),
    )
    d4 = file(w, type="marriage_family", channel="case", parties=pair(4), now=at(10, 1, 0, 30))
    route(w.officer_a, d4.code, at(10, 2), "judicial", "mediation_committee")
    d5 = services.request_mediation(
        w.citizen,
        type="land_housing",
        narrative="邻居占用我家宅基地",
        other_parties=pair(5)[1:],
        grid_code=w.grid_a.code,
        now=at(10, 12),
    )
    services.decline_request(w.officer_a, d5.code, "已由法院受理", now=at(10, 13))

    d6 = file(w, user=w.officer_b, grid_code=w.grid_b.code, parties=pair(6), now=at(11, 2))
    services.resolve(w.officer_b, d6.code, "调解成功", now=at(11, 3))
    services.record_visit(w.officer_b, d6.code, holds=True, note="稳定", now=at(11, 10))
    services.record_visit(w.officer_b, d6.code, holds=True, note="稳定", now=at(11, 20))

    d7 = file(
        w,
        type="debt",
        channel="community_work",
        narrative="借款纠纷",
        parties=pair(7),
        now=at(11, 5),
    )
    services.resolve(w.officer_a, d7.code, "已还款", now=at(11, 6))
    services.record_visit(w.officer_a, d7.code, holds=False, note="又起争执", now=at(11, 13))
    disputes = [d1, d2, d3, d4, d5, d6, d7]
    for d in disputes:
        d.refresh_from_db()
    return disputes


def by_value(rows):
    return {row["value"]: (row["total"], row["settled"]) for row in rows}


# --- the figures ---------------------------------------------------------------------------------


def test_the_set_is_what_the_docstring_says(seven):
    d1, d2, d3, d4, d5, d6, d7 = seven
    assert [d.status for d in seven] == [
        Status.RESOLVED,
        Status.RESOLVED,
        Status.OPEN,
        Status.OPEN,
        Status.DECLINED,
        Status.CLOSED,
        Status.OPEN,
    ]
    assert [d.risk for d in seven] == [
        "green",
        "yellow",
        "red",
        "green",
        "green",
        "green",
        "yellow",
    ]
    assert [d.relapse_count for d in seven] == [0, 1, 0, 0, 0, 0, 1]


def test_summary_over_everything(world, seven):
    s = queries.summary(world.commander)
    assert s["scope"] == {"code": "360827", "name": "平安县公安局"}
    assert s["period"] == {"from": None, "to": None}
    assert (s["total"], s["settled"]) == (7, 3)
    assert s["resolution_rate"] == pytest.approx(3 / 7)
    assert s["median_days"] == 3  # days 1, 3, 30
    assert (s["relapsed"], s["ever_settled"]) == (2, 4)  # d7 relapsed and is open again
    assert s["relapse_rate"] == pytest.approx(0.5)
    assert by_value(s["by_type"]) == {
        "marriage_family": (1, 0),
        "neighbour": (2, 2),
        "land_housing": (1, 0),
        "labour_wages": (1, 1),
        "debt": (2, 0),
        "contract_consumer": (0, 0),
        "enterprise": (0, 0),
        "other": (0, 0),
    }
    assert [r["value"] for r in s["by_type"]] == DisputeType.values
    assert s["by_type"][0]["label"] == "婚姻家庭"
    assert by_value(s["by_channel"]) == {
        "cadre_grid": (2, 2),
        "community_work": (2, 1),
        "online": (1, 0),
        "case": (1, 0),
        "citizen_request": (1, 0),
    }
    assert [r["value"] for r in s["by_channel"]] == Channel.values
    assert by_value(s["by_route"]) == {
        "grassroots": (1, 1),
        "judicial": (1, 0),
        "departmental": (0, 0),
        "none": (5, 2),
    }
    assert s["by_route"][-1]["label"] == "未确定途径"
    assert by_value(s["by_risk"]) == {"red": (1, 0), "yellow": (2, 1), "green": (4, 2)}
    assert by_value(s["by_status"]) == {
        "pending": (0, 0),
        "open": (3, 0),
        "resolved": (2, 2),
        "closed": (1, 1),
        "declined": (1, 0),
    }
    # d4 was filed at 00:30 on 1 October Beijing time: October, although UTC still said September.
    assert s["by_month"] == [
        {"month": "2026-09", "total": 2, "settled": 2},
        {"month": "2026-10", "total": 3, "settled": 0},
        {"month": "2026-11", "total": 2, "settled": 1},
    ]


def test_summary_over_a_period(world, seven):
    s = queries.summary(world.commander, month_from=date(2026, 10, 1), month_to=date(2026, 12, 1))
    assert s["period"] == {"from": "2026-10", "to": "2026-12"}
    assert (s["total"], s["settled"], s["relapsed"], s["ever_settled"]) == (5, 1, 1, 2)
    assert s["median_days"] == 1
    assert s["relapse_rate"] == pytest.approx(0.5)
    assert s["by_month"] == [
        {"month": "2026-10", "total": 3, "settled": 0},
        {"month": "2026-11", "total": 2, "settled": 1},
        {"month": "2026-12", "total": 0, "settled": 0},
    ]
    september = queries.summary(
        world.commander, month_from=date(2026, 9, 1), month_to=date(2026, 9, 30)
    )
    assert (september["total"], september["median_days"]) == (2, 16.5)  # days 3 and 30


def test_each_commander_sees_their_own_tree(world, seven, chief_b, root):
    a = queries.summary(world.chief_a)
    assert a["scope"]["code"] == "S-A"
    assert (a["total"], a["settled"], a["relapsed"], a["ever_settled"]) == (5, 2, 2, 3)
    assert a["median_days"] == 16.5
    assert a["relapse_rate"] == pytest.approx(2 / 3)
    b = queries.summary(chief_b)
    assert (b["total"], b["settled"], b["relapsed"], b["median_days"]) == (2, 1, 0, 1)
    assert b["relapse_rate"] == 0
    assert by_value(b["by_risk"]) == {"red": (1, 0), "yellow": (0, 0), "green": (1, 1)}
    # The county commander and a superuser narrow to one station; same numbers.
    for user in (world.commander, root):
        narrowed = queries.summary(user, org_code="S-B")
        assert {k: narrowed[k] for k in ("total", "settled", "by_risk", "by_month")} == {
            k: b[k] for k in ("total", "settled", "by_risk", "by_month")
        }
    everything = queries.summary(root)
    assert everything["scope"] == {"code": "", "name": "全部"}
    assert everything["total"] == 7


def test_summary_denials(world, seven, chief_b):
    with pytest.raises(Forbidden):
        queries.summary(chief_b, org_code="S-A")
    with pytest.raises(Forbidden):
        queries.summary(world.chief_a, org_code="360827")  # above their own unit
    with pytest.raises(NotFound):
        queries.summary(world.commander, org_code="NOPE")
    for user in (world.officer_a, world.aux_a, world.worker_a, world.citizen, world.volunteer):
        with pytest.raises(Forbidden):
            queries.summary(user)
    orphan = make_user("orphan", Role.COMMANDER)
    with pytest.raises(Forbidden):
        queries.summary(orphan)


@pytest.mark.parametrize(
    ("month_from", "month_to", "code"),
    [
        (date(2026, 11, 1), date(2026, 10, 1), "bad_period"),
        (date(2010, 1, 1), date(2026, 10, 1), "bad_period"),  # over ten years
        (date(1999, 12, 1), None, "bad_month"),
        (None, date(2100, 1, 1), "bad_month"),
        ("2026-10", None, "bad_month"),
    ],
)
def test_summary_rejects_bad_periods(world, month_from, month_to, code):
    with pytest.raises(ServiceError) as caught:
        queries.summary(world.commander, month_from=month_from, month_to=month_to)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2026-11", date(2026, 11, 1)), (" 2026-01 ", date(2026, 1, 1)), ("", None), (None, None)],
)
def test_parse_month(raw, expected):
    assert queries.parse_month(raw, field="from", label="起始月份") == expected


@pytest.mark.parametrize("raw", ["2026-13", "2026-00", "26-11", "2026/11", "２０２６-11", "abc", 5])
def test_parse_month_rejects(raw):
    with pytest.raises(ServiceError) as caught:
        queries.parse_month(raw, field="from", label="起始月份")
    assert caught.value.code == "bad_month"
    assert "起始月份" in caught.value.message


@pytest.mark.parametrize(
    ("counts", "expected"),
    [({}, None), ({4: 1}, 4), ({1: 1, 3: 1}, 2), ({0: 2, 9: 1}, 0), ({1: 1, 2: 2, 10: 1}, 2)],
)
def test_median_from_histogram(counts, expected):
    values = [v for v, n in counts.items() for _ in range(n)]
    assert queries.median_from_histogram(counts) == expected
    if values:
        assert expected == statistics.median(values)


def test_no_disputes_no_rates(world):
    s = queries.summary(world.commander)
    assert (s["total"], s["resolution_rate"], s["median_days"], s["relapse_rate"]) == (
        0,
        None,
        None,
        None,
    )
    assert s["by_month"] == []
    assert all(row["total"] == 0 for row in s["by_type"])


# --- cells kept in step: a random walk through the services --------------------------------------


def _cells():
    return sorted(
        StatCell.objects.filter(total__gt=0).values_list(
            "org_id", "org_path", "month", "dimension", "value", "total", "settled", "relapsed"
        )
    )


def _assert_cells_match_rebuild():
    incremental = _cells()
    rebuild_stats()
    assert _cells() == incremental


def _direct_figures(qs):
    """The headline figures computed straight from the dispute rows: an oracle for summary()."""
    rows = list(qs)
    settled = [d for d in rows if d.status in SETTLED_STATUSES]
    days = [
        min(max(int((d.resolved_at - d.reported_at).total_seconds() / 86400), 0), MAX_DAYS_BUCKET)
        for d in settled
    ]
    relapsed = [d for d in rows if d.relapse_count]
    ever = len(settled) + sum(1 for d in relapsed if d.status in OPEN_STATUSES)
    return {
        "total": len(rows),
        "settled": len(settled),
        "median_days": statistics.median(days) if days else None,
        "relapsed": len(relapsed),
        "ever_settled": ever,
        "by_type": Counter(d.type for d in rows),
        "by_channel": Counter(d.channel for d in rows),
        "by_route": Counter(d.route or "none" for d in rows),
        "by_risk": Counter(d.risk for d in rows),
        "by_status": Counter(d.status for d in rows),
    }


def _summary_figures(s):
    figures = {k: s[k] for k in ("total", "settled", "median_days", "relapsed", "ever_settled")}
    for key in ("by_type", "by_channel", "by_route", "by_risk", "by_status"):
        figures[key] = Counter({r["value"]: r["total"] for r in s[key] if r["total"]})
    return figures


PEOPLE = [
    PartyInput(name="赵一", phone="13700000001"),
    PartyInput(name="钱二", phone="13700000002"),
    PartyInput(name="孙三", phone="13700000003"),
    PartyInput(name="李四", phone="13700000004", vulnerability="elderly"),
    PartyInput(name="周五", phone="13700000005"),
    PartyInput(name="某建筑公司", kind="organisation"),
]
NARRATIVES = ["田埂边界争吵", "拖欠货款不还", "扬言要放火烧房子", "噪音扰民多次协商无果"]


class Walk:
    def __init__(self, world, seed):
        self.w = world
        self.rng = random.Random(seed)
        self.now = at(8, 20)
        self.done = Counter()

    def officer(self, dispute):
        return self.w.officer_a if dispute.grid_id == self.w.grid_a.pk else self.w.officer_b

    def pick(self, **filters):
        codes = list(Dispute.objects.filter(**filters).values_list("code", flat=True))
        return Dispute.objects.get(code=self.rng.choice(codes)) if codes else None

    def step(self):
        self.now += timedelta(hours=self.rng.randint(1, 150))
        rng, w = self.rng, self.w
        action = rng.choice(
            ["file"] * 4
            + ["request", "accept", "decline", "route", "override", "party", "note"]
            + ["resolve"] * 3
            + ["visit"] * 3
            + ["sweep", "bulk"]
        )
        try:
            self.run(action, rng, w)
        except ServiceError:
            self.done["refused"] += 1  # an invalid step rolls back; the cells must not move
        else:
            self.done[action] += 1

    def run(self, action, rng, w):
        now = self.now
        if action == "file":
            on_b = rng.random() < 0.35
            file(
                w,
                user=w.officer_b if on_b else rng.choice([w.worker_a, w.officer_a]),
                grid_code=(w.grid_b if on_b else w.grid_a).code,
                type=rng.choice(DisputeType.values),
                channel=rng.choice(services.STAFF_CHANNELS),
                narrative=rng.choice(NARRATIVES),
                parties=rng.sample(PEOPLE, rng.randint(2, 3)),
                amount_yuan=rng.choice([None, 500, 250000]),
                now=now,
            )
        elif action == "request":
            services.request_mediation(
                rng.choice([w.citizen, w.citizen2]),
                type=rng.choice(DisputeType.values),
                narrative=rng.choice(NARRATIVES),
                other_parties=rng.sample(PEOPLE, 1),
                grid_code=rng.choice([w.grid_a, w.grid_b]).code,
                now=now,
            )
        elif action in ("accept", "decline"):
            d = self.pick(status=Status.PENDING)
            if d is None:
                raise ServiceError("nothing", "no pending request")
            if action == "accept":
                services.accept_request(self.officer(d), d.code, now=now)
            else:
                services.decline_request(self.officer(d), d.code, "不属于调解范围", now=now)
        elif action == "route":
            d = self.pick(status=Status.OPEN)
            if d is None:
                raise ServiceError("nothing", "no open dispute")
            choice = rng.choice(
                [
                    ("grassroots", "village_committee"),
                    ("judicial", "shared_court"),
                    ("departmental", "labour"),
                ]
            )
            services.set_route(
                self.officer(d),
                d.code,
                route=choice[0],
                body_kind=choice[1],
                body_name="承办机构",
                contact_name="联系人",
                reason="换一个途径试试",
                now=now,
            )
        elif action == "override":
            d = self.pick(status__in=OPEN_STATUSES)
            if d is None:
                raise ServiceError("nothing", "no open dispute")
            services.override_risk(
                self.officer(d), d.code, rng.choice(["", *Risk.values]), "现场研判", now=now
            )
        elif action == "party":
            d = self.pick(status=Status.OPEN)
            if d is None:
                raise ServiceError("nothing", "no open dispute")
            services.add_party(
                self.officer(d),
                d.code,
                PartyInput(name="吴六", phone="13700000006", vulnerability="minor"),
                now=now,
            )
        elif action == "note":
            d = self.pick(status=Status.OPEN)
            if d is None:
                raise ServiceError("nothing", "no open dispute")
            services.add_note(self.officer(d), d.code, "电话回访当事人", now=now)
        elif action == "resolve":
            d = self.pick(status__in=OPEN_STATUSES)
            if d is None:
                raise ServiceError("nothing", "no open dispute")
            services.resolve(self.officer(d), d.code, "双方达成一致", now=now)
        elif action == "visit":
            d = self.pick(status=Status.RESOLVED)
            if d is None:
                raise ServiceError("nothing", "no resolved dispute")
            holds = rng.random() < 0.6
            services.record_visit(self.officer(d), d.code, holds=holds, note="回访", now=now)
        elif action == "sweep":
            services.reassess_due(now)
        elif action == "bulk":
            bulk.reassess_all(now=now, batch=rng.randint(1, 5), rebuild=False)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cells_stay_equal_to_a_rebuild_through_a_random_walk(world, seed):
    walk = Walk(world, seed)
    for number in range(1, 91):
        walk.step()
        if number % 15 == 0:
            _assert_cells_match_rebuild()
    _assert_cells_match_rebuild()
    # The walk did reach the interesting states, or it proves little.
    statuses = set(Dispute.objects.values_list("status", flat=True))
    assert {Status.OPEN, Status.RESOLVED} <= statuses
    assert Dispute.objects.filter(relapse_count__gt=0).exists()
    assert walk.done["file"] >= 10 and walk.done["visit"] >= 3
    months = {d.month for d in StatCell.objects.filter(dimension="all")}
    assert len(months) >= 3
    # And the page's figures agree with counting the disputes directly.
    assert _summary_figures(queries.summary(world.commander)) == _direct_figures(
        Dispute.objects.all()
    )
    assert _summary_figures(queries.summary(world.chief_a)) == _direct_figures(
        Dispute.objects.filter(org_path__startswith=world.station_a.path)
    )
    october = queries.summary(
        world.commander, month_from=date(2026, 10, 1), month_to=date(2026, 10, 1)
    )
    start, end = at(10, 1, 0, 0), at(11, 1, 0, 0)
    assert _summary_figures(october) == _direct_figures(
        Dispute.objects.filter(reported_at__gte=start, reported_at__lt=end)
    )


def test_a_broken_cell_is_noticed(world, seven):
    """The comparison above can fail: a cell off by one is caught."""
    StatCell.objects.filter(dimension="type", value="debt").update(total=99)
    with pytest.raises(AssertionError):
        _assert_cells_match_rebuild()


# --- the page ------------------------------------------------------------------------------------


def client_for(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(world):
    for url in (STATS_URL, EXPORT_URL):
        response = client_for().get(url)
        assert response.status_code == 302
        assert response.url.startswith("/login/")


def test_other_roles_are_refused(world, seven):
    for user in (world.officer_a, world.aux_a, world.worker_a, world.citizen, world.volunteer):
        for url in (STATS_URL, EXPORT_URL):
            response = client_for(user).get(url)
            assert response.status_code == 403, (user.username, url)
            assert b"2026-09" not in response.content


def test_the_page_for_a_station_chief(world, seven, chief_b, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at(11, 23, 9))
    response = client_for(chief_b).get(STATS_URL)
    assert response.status_code == 200
    data = response.context["data"]
    # First visit: the last twelve months.
    assert data["period"] == {"from": "2025-12", "to": "2026-11"}
    assert (data["total"], data["settled"]) == (2, 1)
    html = response.content.decode()
    assert "矛盾纠纷统计" in html and "化解率" in html and "反复率" in html
    assert 'id="fig-resolution">50.0%<' in html
    assert 'id="fig-median">1<' in html
    assert 'id="fig-total">2<' in html
    assert "vendor/echarts/echarts.min.js" in html
    assert 'id="stats-chart"' in html
    # Only their own units are offered in the unit filter.
    codes = [code for code, _ in response.context["orgs"]]
    assert codes == ["S-B", "O-B1"]
    assert "城关派出所" not in html


def test_the_page_filters(world, seven):
    client = client_for(world.commander)
    response = client.get(STATS_URL, {"from": "2026-10", "to": "2026-11", "org": "S-A"})
    assert response.status_code == 200
    data = response.context["data"]
    assert data["scope"]["code"] == "S-A"
    assert (data["total"], data["settled"], data["relapsed"]) == (3, 0, 1)  # d4, d5, d7
    assert 'id="fig-median">—<' in response.content.decode()
    # Submitted empty months mean no bound at all.
    everything = client.get(STATS_URL, {"from": "", "to": "", "org": ""}).context["data"]
    assert everything["total"] == 7


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"from": "2026-11", "to": "2026-01"}, 400, "起始月份不能晚于截止月份"),
        ({"from": "2026-13", "to": ""}, 400, "月份应在 1 到 12 之间"),
        ({"from": "十一月", "to": ""}, 400, "格式应为 年-月"),
        ({"from": "2000-01", "to": "2026-01"}, 400, "统计区间最长"),
        ({"org": "S-B"}, 403, "只能查看本单位及下级单位的统计"),
        ({"org": "NOPE"}, 404, "单位 NOPE 不存在"),
    ],
)
def test_bad_filters_are_explained_on_the_page(world, seven, params, status, message):
    for url in (STATS_URL, EXPORT_URL):
        response = client_for(world.chief_a).get(url, params)
        assert response.status_code == status
        assert response["Content-Type"].startswith("text/html")
        assert message in response.content.decode()
        assert response.context["data"] is None


# --- the export ----------------------------------------------------------------------------------


def _sheet_rows(sheet):
    return [row for row in sheet.iter_rows(min_row=4, values_only=True) if row[0] is not None]


def test_the_export_matches_the_summary(world, seven):
    params = {"from": "2026-09", "to": "2026-11", "org": ""}
    response = client_for(world.commander).get(EXPORT_URL, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="dispute-stats_360827_2026-09_2026-11.xlsx"' in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "矛盾纠纷统计_平安县公安局_2026-09_2026-11.xlsx"
    expected = queries.summary(
        world.commander, month_from=date(2026, 9, 1), month_to=date(2026, 11, 1)
    )
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == [
        "概览",
        "按类型",
        "按排查渠道",
        "按化解途径",
        "按风险等级",
        "按状态",
        "按月份",
    ]
    overview = book["概览"]
    assert "2026-09 至 2026-11" in overview["A1"].value and "平安县公安局" in overview["A1"].value
    figures = {row[0]: row[1] for row in _sheet_rows(overview)}
    assert figures["纠纷总数"] == expected["total"] == 7
    assert figures["已化解"] == expected["settled"]
    assert figures["化解率"] == pytest.approx(expected["resolution_rate"])
    assert figures["化解天数中位数"] == expected["median_days"]
    assert figures["出现反复"] == expected["relapsed"]
    assert figures["曾化解"] == expected["ever_settled"]
    assert figures["反复率"] == pytest.approx(expected["relapse_rate"])
    for name, key in [
        ("按类型", "by_type"),
        ("按排查渠道", "by_channel"),
        ("按化解途径", "by_route"),
        ("按风险等级", "by_risk"),
        ("按状态", "by_status"),
    ]:
        rows = _sheet_rows(book[name])
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (item["label"], item["total"], item["settled"]) for item in expected[key]
        ], name
        assert book[name].column_dimensions["A"].width >= 14
    months = _sheet_rows(book["按月份"])
    assert [(r[0], r[1], r[2]) for r in months] == [
        (m["month"], m["total"], m["settled"]) for m in expected["by_month"]
    ]
    # Counts only: no party's name or phone anywhere in the workbook.
    text = " ".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )
    for d in seven:
        for party in d.parties.all():
            assert party.name not in text
            if party.phone:
                assert party.phone[-8:] not in text
        assert d.code not in text


def test_a_chief_exports_only_their_station(world, seven, chief_b):
    response = client_for(chief_b).get(EXPORT_URL, {"from": "", "to": ""})
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    figures = {row[0]: row[1] for row in _sheet_rows(book["概览"])}
    assert figures["纠纷总数"] == 2
    assert "泉江派出所" in book["概览"]["A1"].value
