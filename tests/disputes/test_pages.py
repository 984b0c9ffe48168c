"""The dispute pages: who may open each one, the forms with good and bad input, the audited
full view of the parties, the printable agreement, the board's filters and its query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.disputes import services
from pingan.disputes.models import (
    Agreement,
    CaseOrder,
    DailyReview,
    Dispute,
    DisputeEvent,
    Party,
    Risk,
    Status,
)
from tests.incidents.helpers import report_at

from .helpers import file

pytestmark = pytest.mark.django_db

THREAT = "两家因宅基地边界争吵，王大山扬言要砍死对方"


def as_user(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def red(world, **kwargs):
    kwargs.setdefault("narrative", THREAT)
    return file(world, **kwargs)


def strangers():
    # Names only: no key to match earlier disputes by, so the "repeat" rule stays quiet.
    return [
        services.PartyInput(name="张三", role="applicant"),
        services.PartyInput(name="赵四", role="respondent"),
    ]


def yellow(world, **kwargs):
    kwargs.setdefault("parties", strangers())
    return file(world, narrative="拖欠工程款", type="labour_wages", amount_yuan=250000, **kwargs)


def green(world, **kwargs):
    kwargs.setdefault("parties", strangers())
    return file(world, narrative="两家为晾衣绳位置拌嘴", **kwargs)


def agreed(world, dispute):
    """A dispute with a session, an agreement and both parties' signatures, by officer_a."""
    session = services.record_session(
        world.officer_a,
        dispute.code,
        held_at=clock.now() - timedelta(hours=1),
        place="东门警务室",
        participants="王大山、李小河",
        outcome="agreed",
    )
    agreement = services.draft_agreement(
        world.officer_a,
        dispute.code,
        facts="宅基地边界争议",
        terms="以原界桩为准，双方互不侵占",
        mediator_body="东门社区人民调解委员会",
        session_id=session.pk,
    )
    for party in dispute.parties.all():
        services.sign_agreement(world.officer_a, agreement.number, role="party", party_id=party.pk)
    services.sign_agreement(world.officer_a, agreement.number, role="mediator", name="陈调解")
    return agreement


# --- who may open what ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(world):
    dispute = red(world)
    agreement = agreed(world, dispute)
    incident = report_at().incident
    urls = [
        "/console/disputes/",
        "/console/disputes/part/",
        "/console/disputes/review/",
        "/disputes/mine/",
        "/disputes/new/",
        f"/disputes/{dispute.code}/",
        f"/disputes/{dispute.code}/agreements/{agreement.number}/print/",
        f"/disputes/from-incident/{incident.code}/",
        "/mediation/",
        "/mediation/mine/",
        f"/mediation/{dispute.code}/",
    ]
    for url in urls:
        response = as_user().get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/login/?next="), url
    before = AuditEntry.objects.count()
    response = as_user().post(f"/disputes/{dispute.code}/reveal/")
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert AuditEntry.objects.count() == before


def test_board_is_for_commanders_and_officers(world):
    dispute = red(world)
    for user in (world.citizen, world.volunteer, world.worker_a, world.aux_a):
        assert as_user(user).get("/console/disputes/").status_code == 403, user
        assert as_user(user).get("/console/disputes/review/").status_code == 403, user
    for user in (world.chief_a, world.commander, world.officer_a):
        page = as_user(user).get("/console/disputes/")
        assert page.status_code == 200, user
        assert dispute.code in text(page)
    # officer_b (the other station) sees the board, scoped: not this dispute.
    page = as_user(world.officer_b).get("/console/disputes/")
    assert page.status_code == 200 and dispute.code not in text(page)


def test_detail_is_404_alike_for_those_without_access(world):
    dispute = red(world)
    for user in (world.officer_b, world.citizen, world.volunteer):
        assert as_user(user).get(f"/disputes/{dispute.code}/").status_code == 404, user
    assert as_user(world.officer_a).get("/disputes/JF00000000-999/").status_code == 404
    for user in (world.officer_a, world.aux_a, world.worker_a, world.chief_a, world.commander):
        page = as_user(user).get(f"/disputes/{dispute.code}/")
        assert page.status_code == 200, user
        assert "扬言暴力" in text(page)


def test_actions_by_outsiders_change_nothing(world):
    dispute = red(world)
    events = DisputeEvent.objects.count()
    response = as_user(world.officer_b).post(
        f"/disputes/{dispute.code}/note/", {"message": "不该写入"}
    )
    assert response.status_code == 404
    response = as_user(world.citizen).post(
        f"/disputes/{dispute.code}/resolve/", {"note": "不该写入"}
    )
    assert response.status_code == 404
    assert as_user(world.officer_a).post(f"/disputes/{dispute.code}/fly/").status_code == 404
    assert as_user(world.officer_a).get(f"/disputes/{dispute.code}/note/").status_code == 405
    assert DisputeEvent.objects.count() == events
    dispute.refresh_from_db()
    assert dispute.status == Status.OPEN


def test_mine_and_filing_pages_are_for_staff(world):
    for user in (world.citizen, world.volunteer):
        assert as_user(user).get("/disputes/mine/").status_code == 403
        assert as_user(user).get("/disputes/new/").status_code == 403
    dispute = red(world)
    for user in (world.worker_a, world.aux_a, world.officer_a):
        page = as_user(user).get("/disputes/mine/")
        assert page.status_code == 200 and dispute.code in text(page), user
    assert dispute.code not in text(as_user(world.officer_b).get("/disputes/mine/"))


# --- filing --------------------------------------------------------------------------------------


def _filing(**overrides):
    data = {
        "type": "neighbour",
        "channel": "cadre_grid",
        "grid": "GA1",
        "title": "宅基地边界",
        "narrative": THREAT,
        "p-0-name": "王大山",
        "p-0-role": "applicant",
        "p-0-kind": "person",
        "p-0-phone": "13800138001",
        "p-1-name": "李小河",
        "p-1-role": "respondent",
        "p-1-kind": "person",
        "p-1-phone": "13900139002",
        "p-1-vulnerability": "elderly",
        "p-1-notify": "on",
        # Blank rows as the page sends them: ignored.
        "p-2-name": "",
        "p-2-role": "other",
        "p-2-kind": "person",
    }
    data.update(overrides)
    return data


def test_grid_worker_files_a_red_dispute(world):
    client = as_user(world.worker_a)
    form = client.get("/disputes/new/")
    assert form.status_code == 200
    body = text(form)
    assert "东门社区" in body and "大坑村" not in body  # only grids they may file in
    assert 'name="p-1-name"' in body and 'name="p-2-name"' not in body  # two rows to start
    response = client.post("/disputes/new/", _filing())
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response.url == f"/disputes/{dispute.code}/"
    assert dispute.risk == Risk.RED and dispute.filed_by == world.worker_a
    parties = list(dispute.parties.order_by("pk"))
    assert [p.name for p in parties] == ["王大山", "李小河"]
    assert parties[1].vulnerability == "elderly" and parties[1].notify
    page = client.get(response.url)
    assert "已登记纠纷" in text(page) and "扬言暴力" in text(page)


@pytest.mark.parametrize(
    ("overrides", "message", "kept"),
    [
        ({"narrative": "   "}, "请填写情况描述", "宅基地边界"),
        ({"type": "feud"}, "纠纷类型的选项无效", "宅基地边界"),
        ({"grid": "GB1"}, "网格的选项无效", "宅基地边界"),
        ({"amount_yuan": "十万"}, "涉及金额（元，可选）必须是数字", "十万"),
        ({"p-0-name": "", "p-1-name": ""}, "第 1 位当事人的姓名/名称不能为空", "13900139002"),
        ({"p-0-phone": "12345"}, "手机号无效", "12345"),
        (
            {"p-0-name": "", "p-0-phone": "", "p-1-name": "", "p-1-phone": ""},
            "至少填写一位当事人",
            "宅基地边界",
        ),
        ({"p-0-notify": "on", "p-0-phone": ""}, "第 1 位当事人要接收短信，请填写手机号", "王大山"),
    ],
)
def test_filing_with_bad_input_keeps_what_was_typed(world, overrides, message, kept):
    response = as_user(world.worker_a).post("/disputes/new/", _filing(**overrides))
    assert response.status_code == 400
    body = text(response)
    assert message in body
    assert kept in body
    assert Dispute.objects.count() == 0 and Party.objects.count() == 0
    assert DisputeEvent.objects.count() == 0


def test_filing_outside_ones_grids_is_refused(world):
    # officer_b's form does not offer GA1; a forged post is refused and creates nothing.
    response = as_user(world.officer_b).post("/disputes/new/", _filing())
    assert response.status_code == 400
    assert "网格的选项无效" in text(response)
    assert Dispute.objects.count() == 0


def test_incident_becomes_a_dispute_through_the_page(world):
    incident = report_at(reporter=world.citizen).incident
    client = as_user(world.officer_a)
    url = f"/disputes/from-incident/{incident.code}/"
    form = client.get(url)
    assert form.status_code == 200
    assert incident.description in text(form)
    assert world.citizen.display_name in text(form)  # the reporter is offered as a party
    bad = client.post(url, {"type": "", "narrative": "打架引发纠纷", "p-0-name": "甲"})
    assert bad.status_code == 400 and "请选择纠纷类型" in text(bad)
    assert Dispute.objects.count() == 0
    response = client.post(
        url,
        {
            "type": "neighbour",
            "title": "打架后续",
            "narrative": "双方因停车位打架，需调解赔偿",
            "p-0-name": "王大山",
            "p-0-role": "applicant",
            "p-1-name": "李小河",
            "p-1-role": "respondent",
        },
    )
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response.url == f"/disputes/{dispute.code}/"
    assert dispute.incident == incident and dispute.channel == "case"
    again = client.get(url)
    assert again.status_code == 200 and dispute.code in text(again)
    assert as_user(world.officer_b).get(url).status_code == 404
    assert as_user(world.citizen).get(url).status_code == 403


# --- the detail page's forms ---------------------------------------------------------------------


def test_override_without_reason_is_refused_and_kept(world):
    dispute = green(world)
    events = DisputeEvent.objects.count()
    client = as_user(world.officer_a)
    response = client.post(f"/disputes/{dispute.code}/override/", {"level": "red", "reason": ""})
    assert response.status_code == 400
    body = text(response)
    assert "人工调整风险等级必须填写理由" in body
    assert 'id="act-override" open' in body
    dispute.refresh_from_db()
    assert dispute.risk == Risk.GREEN and DisputeEvent.objects.count() == events
    response = client.post(
        f"/disputes/{dispute.code}/override/", {"level": "red", "reason": "当事人情绪激动"}
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.risk == Risk.RED and dispute.risk_override_reason == "当事人情绪激动"


def test_auxiliary_may_not_override_nor_reveal(world):
    dispute = green(world)
    client = as_user(world.aux_a)
    page = text(client.get(f"/disputes/{dispute.code}/"))
    assert 'id="act-override"' not in page and 'id="reveal"' not in page
    assert 'id="act-note"' in page
    response = client.post(
        f"/disputes/{dispute.code}/override/", {"level": "red", "reason": "试一试"}
    )
    assert response.status_code == 403 and "只有民警和指挥员可以调整风险等级" in text(response)
    dispute.refresh_from_db()
    assert dispute.risk == Risk.GREEN
    before = AuditEntry.objects.count()
    response = client.post(f"/disputes/{dispute.code}/reveal/")
    assert response.status_code == 403
    assert "13800138001" not in text(response)
    # The refused reveal is recorded as refused.
    assert AuditEntry.objects.count() == before + 1
    assert AuditEntry.objects.filter(action="view_personal_data", outcome="denied").count() == 1


def test_reveal_is_audited_and_the_default_view_is_masked(world):
    dispute = red(world)
    client = as_user(world.officer_a)
    page = text(client.get(f"/disputes/{dispute.code}/"))
    assert "13800138001" not in page and "138****8001" in page
    assert 'id="reveal"' in page
    assert not AuditEntry.objects.filter(action="view_personal_data").exists()
    response = client.post(f"/disputes/{dispute.code}/reveal/", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "+8613800138001" in text(response) and "+8613900139002" in text(response)
    entry = AuditEntry.objects.get(action="view_personal_data")
    assert entry.actor == world.officer_a and entry.object_ref == dispute.code
    assert entry.ip == "10.1.2.3"
    # Reading the page again shows the masked view again.
    assert "13800138001" not in text(client.get(f"/disputes/{dispute.code}/"))


def test_route_requires_reason_when_changing(world):
    dispute = red(world)
    client = as_user(world.officer_a)
    url = f"/disputes/{dispute.code}/route/"
    first = {
        "route": "judicial",
        "body_kind": "mediation_committee",
        "body_name": "东门社区人民调解委员会",
        "contact_name": "陈调解",
        "contact_phone": "13700137000",
    }
    assert client.post(url, first).status_code == 302
    wrong_body = dict(first, route="departmental", reason="涉及劳动监察")
    response = client.post(url, wrong_body)
    assert response.status_code == 400 and "部门联动化解的承办机构只能是" in text(response)
    change = dict(first, route="departmental", body_kind="labour", body_name="县人社局")
    response = client.post(url, change)
    assert response.status_code == 400
    assert "变更化解途径必须填写理由" in text(response) and "县人社局" in text(response)
    dispute.refresh_from_db()
    assert dispute.route == "judicial" and dispute.handoffs.count() == 1
    assert client.post(url, dict(change, reason="实为欠薪")).status_code == 302
    dispute.refresh_from_db()
    assert dispute.route == "departmental" and dispute.handoff_body == "县人社局"


def test_whole_walk_through_the_forms(world):
    dispute = red(world)
    client = as_user(world.officer_a)
    base = f"/disputes/{dispute.code}"
    now = timezone.localtime(clock.now())

    def ok(action, data):
        response = client.post(f"{base}/{action}/", data)
        assert response.status_code == 302, (action, text(response))

    ok("note", {"message": "已上门了解情况"})
    deadline = (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    ok("order", {"owner": world.officer_a.pk, "deadline": deadline, "plan": "每周走访一次"})
    assert CaseOrder.objects.get(dispute=dispute).owner == world.officer_a
    held = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(f"{base}/session/", {"held_at": "昨天", "place": "警务室"})
    assert bad.status_code == 400 and "调解时间格式应为" in text(bad)
    ok(
        "session",
        {"held_at": held, "place": "东门警务室", "participants": "双方", "outcome": "agreed"},
    )
    ok(
        "agreement",
        {
            "facts": "宅基地边界争议",
            "terms": "以原界桩为准",
            "mediator_body": "东门社区人民调解委员会",
        },
    )
    agreement = Agreement.objects.get(dispute=dispute)
    party = dispute.parties.first()
    ok("sign", {"agreement": agreement.number, "role": "party", "party": party.pk})
    again = client.post(
        f"{base}/sign/", {"agreement": agreement.number, "role": "party", "party": party.pk}
    )
    assert again.status_code == 409 and f"{party.name} 已签字" in text(again)
    ok("sign", {"agreement": agreement.number, "role": "mediator", "name": "陈调解"})
    assert agreement.signatures.count() == 2
    ok("resolve", {"note": "双方签订协议"})
    dispute.refresh_from_db()
    assert dispute.status == Status.RESOLVED
    assert CaseOrder.objects.get(dispute=dispute).status == "done"
    page = text(client.get(f"{base}/"))
    assert 'id="act-visit"' in page and 'id="act-resolve"' not in page
    ok("visit", {"holds": "no", "note": "又吵起来了"})
    dispute.refresh_from_db()
    assert dispute.status == Status.OPEN and dispute.relapse_count == 1


def test_accept_a_residents_request_and_what_the_resident_sees(world):
    client = as_user(world.citizen)
    form = client.get("/mediation/")
    assert form.status_code == 200 and "东门社区" in text(form)
    bad = client.post("/mediation/", {"type": "neighbour", "narrative": "", "grid": "GA1"})
    assert bad.status_code == 400 and "请填写发生了什么" in text(bad)
    assert Dispute.objects.count() == 0
    response = client.post(
        "/mediation/",
        {
            "type": "neighbour",
            "title": "邻居占用楼道",
            "narrative": "邻居长期在楼道堆放杂物，沟通无果",
            "grid": "GA1",
            "other_name": "赵铁柱",
            "other_phone": "13600136000",
            "notify": "on",
        },
    )
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response.url == f"/mediation/{dispute.code}/"
    assert dispute.status == Status.PENDING and dispute.requester == world.citizen
    staff = as_user(world.officer_a)
    assert "受理申请" in text(staff.get(f"/disputes/{dispute.code}/"))
    assert staff.post(f"/disputes/{dispute.code}/accept/", {"owner": ""}).status_code == 302
    assert (
        staff.post(f"/disputes/{dispute.code}/note/", {"message": "内部：对方有前科"}).status_code
        == 302
    )
    dispute.refresh_from_db()
    assert dispute.status == Status.OPEN and dispute.owner == world.officer_a
    page = client.get(f"/mediation/{dispute.code}/")
    body = text(page)
    assert page.status_code == 200 and "受理" in body and "化解中" in body
    assert "内部：对方有前科" not in body  # staff notes are not public
    assert "13600136000" not in body and "136****6000" not in body  # nor the other's phone
    assert "赵铁柱" not in body and "赵**" in body
    assert "绿色" not in body and "风险" not in body
    assert dispute.code in text(client.get("/mediation/mine/"))
    part = client.get(f"/mediation/{dispute.code}/part/")
    assert part.status_code == 200 and "内部" not in text(part)
    # Another resident and staff cannot follow it here.
    assert as_user(world.citizen2).get(f"/mediation/{dispute.code}/").status_code == 404
    assert as_user(world.officer_a).get("/mediation/").status_code == 403


def test_decline_needs_a_reason(world):
    dispute = services.request_mediation(
        world.citizen, type="neighbour", narrative="楼上漏水", other_parties=[], grid_code="GA1"
    )
    client = as_user(world.officer_a)
    response = client.post(f"/disputes/{dispute.code}/decline/", {"reason": " "})
    assert response.status_code == 400 and "不予受理的理由不能为空" in text(response)
    dispute.refresh_from_db()
    assert dispute.status == Status.PENDING


# --- print ---------------------------------------------------------------------------------------


def test_print_page_shows_number_and_signers_and_is_audited(world):
    dispute = red(
        world,
        parties=[
            services.PartyInput(
                name="王大山",
                role="applicant",
                phone="13800138001",
                id_number="11010519491231002X",
                address="东门社区 3 栋 2 号",
            ),
            services.PartyInput(name="李小河", role="respondent", phone="13900139002"),
        ],
    )
    agreement = agreed(world, dispute)
    url = f"/disputes/{dispute.code}/agreements/{agreement.number}/print/"
    response = as_user(world.officer_a).get(url)
    assert response.status_code == 200
    body = text(response)
    assert agreement.number in body
    assert "调解协议书" in body and "@page { size: A4; margin: 20mm; }" in body
    for name in ("王大山", "李小河", "陈调解"):
        assert f'<span class="line">{name}</span>' in body
    assert "11010519491231002X" in body and "东门社区 3 栋 2 号" in body
    assert "联系电话：13800138001" in body
    assert 'class="topbar"' not in body  # no navigation chrome
    assert AuditEntry.objects.filter(action="view_personal_data", object_ref=dispute.code).exists()
    # Not for those who may not see full data, and not under another dispute's code.
    assert as_user(world.aux_a).get(url).status_code == 403
    assert as_user(world.officer_b).get(url).status_code == 404
    other = green(world)
    wrong = f"/disputes/{other.code}/agreements/{agreement.number}/print/"
    assert as_user(world.officer_a).get(wrong).status_code == 404


# --- board ---------------------------------------------------------------------------------------


def _column(body: str, risk: str) -> str:
    start = body.index(f'id="col-{risk}"')
    end = body.find('<section class="dcol', start + 1)
    return body[start : end if end != -1 else len(body)]


def test_board_groups_by_colour_with_reasons(world):
    r, y, g = red(world), yellow(world), green(world)
    body = text(as_user(world.chief_a).get("/console/disputes/"))
    assert r.code in _column(body, "red") and "砍死" in _column(body, "red")
    assert y.code in _column(body, "yellow") and "10 万" not in _column(body, "red")
    assert g.code in _column(body, "green")
    assert 'id="count-red">1<' in body and 'id="count-green">1<' in body
    assert 'data-dispute-since="' in body
    since = int(body.split('data-dispute-since="')[1].split('"')[0])
    assert since == DisputeEvent.objects.order_by("-pk").first().pk
    part = as_user(world.chief_a).get("/console/disputes/part/?type=labour_wages")
    assert part.status_code == 200 and y.code in text(part) and r.code not in text(part)


def test_board_filters(world):
    r = red(world)
    y = yellow(world)
    old = green(world, now=clock.now() - timedelta(days=40))
    services.set_route(
        world.officer_a,
        r.code,
        route="judicial",
        body_kind="mediation_committee",
        body_name="调委会",
        contact_name="陈调解",
    )
    client = as_user(world.chief_a)

    def shown(query):
        body = text(client.get(f"/console/disputes/?{query}"))
        return {code for code in (r.code, y.code, old.code) if code in body}

    assert shown("") == {r.code, y.code, old.code}
    assert shown("type=labour_wages") == {y.code}
    assert shown("route=judicial") == {r.code}
    assert shown("route=none") == {y.code, old.code}
    assert shown("min_age=30") == {old.code}
    assert shown("max_age=7") == {r.code, y.code}
    assert shown("grid=GB1") == set()
    assert shown("channel=online") == set()
    assert shown(f"q={y.code}") == {y.code}
    services.resolve(world.officer_a, r.code, "已化解")
    assert shown("") == {y.code, old.code}  # settled disputes leave the board
    response = client.get("/console/disputes/?min_age=abc&type=feud")
    assert response.status_code == 400
    assert "天数必须是 0 到 3650 之间的整数" in text(response)


def _cases(world, n, start=0):
    for i in range(start, start + n):
        d = red(world, narrative=f"{THREAT}（{i}）")
        yellow(world)
        green(world)
        services.open_order(
            world.officer_a,
            d.code,
            owner=world.officer_a,
            deadline=clock.now() + timedelta(days=3),
            plan="跟踪",
        )


def test_board_query_count_is_pinned(world, django_assert_max_num_queries):
    client = as_user(world.chief_a)
    _cases(world, 2)
    client.get("/console/disputes/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get("/console/disputes/")
    _cases(world, 4, start=2)
    # Session, user, scope; counts; one query per colour; review, visits; since; grids; the
    # session's save. Cards with orders, owners and grids cost nothing more.
    with django_assert_max_num_queries(14):
        response = client.get("/console/disputes/")
    assert response.status_code == 200 and text(response).count('class="dcard') == 18
    assert len(few) == 14
    with django_assert_max_num_queries(10):  # no review, visits, since or grids
        assert client.get("/console/disputes/part/").status_code == 200


def test_daily_review_page(world):
    y = yellow(world)
    client = as_user(world.chief_a)
    page = text(client.get("/console/disputes/review/"))
    assert y.code in page and y.risk_reasons[0]["detail"] in page
    response = client.post(f"/console/disputes/review/{y.code}/", {"note": "已约谈双方"})
    assert response.status_code == 302
    assert DailyReview.objects.get(dispute=y).note == "已约谈双方"
    assert f'id="dc-{y.code}"' not in text(client.get("/console/disputes/review/"))
    again = client.post(f"/console/disputes/review/{y.code}/", {"note": "再研判"})
    assert again.status_code == 409 and "该纠纷今天已研判" in text(again)
    assert DailyReview.objects.count() == 1
    assert as_user(world.worker_a).post(f"/console/disputes/review/{y.code}/").status_code == 403


def test_visits_due_on_mine_and_review(world):
    ten_days_ago = clock.now() - timedelta(days=10)
    due = green(world, now=ten_days_ago)
    services.resolve(world.officer_a, due.code, "已调解", now=ten_days_ago + timedelta(hours=1))
    fresh = green(world)
    services.resolve(world.officer_a, fresh.code, "已调解")
    mine = text(as_user(world.officer_a).get("/disputes/mine/"))
    review = text(as_user(world.chief_a).get("/console/disputes/review/"))
    for page in (mine, review):
        # The 7-day visit of the one resolved ten days ago is due; the fresh one's is not.
        assert "7 天回访" in page and due.code in page
        assert f"{fresh.code}/#act-visit" not in page


def test_live_fragments(world):
    dispute = red(world)
    assert dispute.code in text(as_user(world.worker_a).get("/disputes/mine/part/"))
    assert as_user(world.citizen).get("/disputes/mine/part/").status_code == 403
    assert as_user(world.citizen).get("/console/disputes/part/").status_code == 403
