"""Bad input at intake: a clear error code, and a failed call leaves nothing behind."""

import pytest
from django.test import override_settings

from pingan.core.crypto import blind_index
from pingan.core.errors import Conflict, Forbidden, ServiceError
from pingan.disputes import services
from pingan.disputes.models import Dispute, DisputeEvent, Party, StatCell
from pingan.disputes.services import PartyInput
from pingan.notify.backends import MemoryBackend
from pingan.notify.models import OutboundMessage

from .helpers import assert_stats_match_rebuild, file, two_neighbours

GOOD_ID = "11010519491231002X"
GOOD_USCC = "91110000600037341L"


def state() -> tuple:
    """Everything a filing could leave behind."""
    return (
        Dispute.objects.count(),
        Party.objects.count(),
        DisputeEvent.objects.count(),
        sorted(
            StatCell.objects.values_list(
                "org_id", "month", "dimension", "value", "total", "settled"
            )
        ),
        OutboundMessage.objects.count(),
        len(MemoryBackend.outbox),
    )


@pytest.fixture
def before(world):
    # One dispute already there, with a party who wants messages, so a leak would show.
    file(
        world,
        parties=[PartyInput(name="周某", phone="13500135000", notify=True)],
        narrative="已有的纠纷",
    )
    return state()


def person(**kwargs):
    kwargs.setdefault("name", "张三")
    return PartyInput(**kwargs)


STAFF_CASES = [
    ({"type": "feud"}, "bad_type"),
    ({"type": ""}, "bad_type"),
    ({"narrative": ""}, "narrative_required"),
    ({"narrative": "   \n\t　"}, "narrative_required"),
    ({"narrative": None}, "narrative_required"),
    ({"narrative": 42}, "invalid_input"),
    ({"narrative": "长" * 5001}, "narrative_too_long"),
    ({"title": "题" * 81}, "title_too_long"),
    ({"parties": [person(name="")]}, "name_required"),
    ({"parties": [person(), person(name="  ")]}, "name_required"),
    ({"parties": []}, "parties_required"),
    ({"parties": [person(name=f"村民{i}") for i in range(51)]}, "too_many_parties"),
    ({"parties": [person(phone="12345")]}, "bad_phone"),
    ({"parties": [person(phone="010-1234")]}, "bad_phone"),
    ({"parties": [person(phone="手机")]}, "bad_phone"),
    ({"parties": [person(id_number="110105194912310021")]}, "bad_id_number"),
    ({"parties": [person(id_number="11010519491231002")]}, "bad_id_number"),
    # A person's ID number is not an organisation's credit code, nor the other way round.
    ({"parties": [person(id_number=GOOD_USCC)]}, "bad_id_number"),
    ({"parties": [person(kind="organisation", id_number="91110000600037341X")]}, "bad_id_number"),
    ({"parties": [person(kind="organisation", id_number=GOOD_ID)]}, "bad_id_number"),
    ({"parties": [person(notify=True)]}, "notify_needs_phone"),
    ({"parties": [person(kind="robot")]}, "bad_party_kind"),
    ({"parties": [person(role="judge")]}, "bad_party_role"),
    ({"parties": [person(vulnerability="tall")]}, "bad_vulnerability"),
    ({"parties": [person(address="址" * 201)]}, "address_too_long"),
    ({"channel": "citizen_request"}, "bad_channel"),
    ({"channel": "rumour"}, "bad_channel"),
    ({"grid_code": "NOPE"}, "unknown_grid"),
    ({"grid_code": None}, "grid_required"),
    ({"grid_code": None, "lng": 500, "lat": 26.3}, "bad_location"),
    ({"grid_code": None, "lng": 100.0, "lat": 40.0}, "no_grid"),
    ({"amount_yuan": "很多"}, "bad_amount"),
    ({"amount_yuan": -1}, "bad_amount"),
    ({"amount_yuan": "1e12"}, "bad_amount"),
    ({"amount_yuan": "NaN"}, "bad_amount"),
    ({"amount_yuan": "Infinity"}, "bad_amount"),
    ({"address": "址" * 201}, "address_too_long"),
    ({"source_note": "源" * 301}, "source_note_too_long"),
]


@pytest.mark.parametrize(("kwargs", "code"), STAFF_CASES)
def test_bad_staff_filing_is_refused_and_creates_nothing(world, before, kwargs, code):
    with pytest.raises(ServiceError) as caught:
        file(world, **kwargs)
    assert caught.value.code == code
    assert caught.value.status == 400
    assert caught.value.message  # Chinese text for the page
    assert state() == before


@pytest.mark.parametrize(
    ("who", "grid"),
    [("officer_b", "grid_a"), ("worker_a", "grid_b"), ("aux_a", "grid_b"), ("chief_a", "grid_b")],
)
def test_staff_filing_outside_their_scope_is_forbidden(world, before, who, grid):
    with pytest.raises(Forbidden):
        file(world, user=getattr(world, who), grid_code=getattr(world, grid).code)
    assert state() == before


@pytest.mark.parametrize("who", ["citizen", "volunteer"])
def test_residents_cannot_file_as_staff(world, before, who):
    with pytest.raises(Forbidden):
        file(world, user=getattr(world, who))
    assert state() == before


def test_bad_owner_is_refused(world, before):
    for owner in (world.officer_b, world.citizen):
        with pytest.raises(ServiceError) as caught:
            file(world, owner=owner)
        assert caught.value.code == "bad_owner"
    assert state() == before


def test_good_input_is_normalised(world):
    dispute = file(
        world,
        title="  宅基地  ",
        narrative="  两家因宅基地边界争吵\n第二行  ",
        amount_yuan="12345.678",
        parties=[
            PartyInput(
                name=" 王大山 ",
                role="applicant",
                id_number="11010519491231002x",
                phone="138 0013 8001",
                notify=True,
            ),
            PartyInput(name="某建筑公司", kind="organisation", id_number=GOOD_USCC),
            PartyInput(name="无名氏"),
        ],
    )
    assert dispute.title == "宅基地"
    assert dispute.narrative == "两家因宅基地边界争吵\n第二行"
    assert str(dispute.amount_yuan) == "12345.68"
    wang, company, nameless = dispute.parties.all()
    assert (wang.name, wang.id_number, wang.phone) == ("王大山", GOOD_ID, "+8613800138001")
    # The key is a keyed hash of who the party is (it must not give the ID number away).
    assert wang.key == blind_index("party", f"id:{GOOD_ID}")
    assert company.key == blind_index("party", f"id:{GOOD_USCC}")
    # A person known by name only cannot be matched to other disputes safely.
    assert nameless.key == ""


def test_title_defaults_to_the_first_line(world):
    dispute = file(
        world, narrative="村东头两户因为一棵核桃树的归属争执了三年多，多次调解无果\n详情"
    )
    assert dispute.title == "村东头两户因为一棵核桃树的归属争执了三年多，多次调解无果"[:30]


def test_location_instead_of_grid_code_finds_the_grid(world):
    from tests.conftest import GA1_CENTER

    dispute = file(world, grid_code=None, lng=GA1_CENTER[0], lat=GA1_CENTER[1])
    assert dispute.grid == world.grid_a


# --- a resident's request -----------------------------------------------------------------------


def ask(world, user=None, **kwargs):
    kwargs.setdefault("type", "neighbour")
    kwargs.setdefault("narrative", "邻居家的狗总是半夜叫")
    kwargs.setdefault("other_parties", [two_neighbours()[1]])
    kwargs.setdefault("grid_code", world.grid_a.code)
    return services.request_mediation(user or world.citizen, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"type": "feud"}, "bad_type"),
        ({"narrative": "  "}, "narrative_required"),
        ({"other_parties": [person(name="")]}, "name_required"),
        ({"other_parties": [person(phone="999")]}, "bad_phone"),
        ({"grid_code": "NOPE"}, "unknown_grid"),
    ],
)
def test_bad_request_is_refused_and_creates_nothing(world, before, kwargs, code):
    with pytest.raises(ServiceError) as caught:
        ask(world, **kwargs)
    assert caught.value.code == code
    assert state() == before


@pytest.mark.parametrize("who", ["officer_a", "worker_a", "commander"])
def test_staff_cannot_request_mediation_as_residents(world, before, who):
    with pytest.raises(Forbidden):
        ask(world, user=getattr(world, who))
    assert state() == before


@override_settings(DISPUTE_MAX_PENDING_REQUESTS=2)
def test_resident_with_too_many_pending_requests_gets_429(world):
    ask(world)
    ask(world)
    before = state()
    with pytest.raises(ServiceError) as caught:
        ask(world)
    assert caught.value.code == "too_many_requests" and caught.value.status == 429
    assert state() == before
    # Another resident is not limited by the first one's requests.
    ask(world, user=world.citizen2)
    # Once one is accepted the resident may ask again.
    first = Dispute.objects.filter(requester=world.citizen).order_by("pk").first()
    services.accept_request(world.officer_a, first.code)
    ask(world)
    assert Dispute.objects.filter(requester=world.citizen).count() == 3
    assert_stats_match_rebuild()


def test_request_names_the_resident_as_applicant(world):
    from pingan.accounts.models import User

    User.objects.filter(pk=world.citizen.pk).update(phone="+8613600136000", display_name="陈女士")
    world.citizen.refresh_from_db()
    dispute = ask(world)
    assert dispute.status == "pending" and dispute.requester == world.citizen
    assert dispute.filed_by is None and dispute.owner == world.officer_a
    me = dispute.parties.first()
    assert (me.name, me.role, me.phone, me.notify) == (
        "陈女士",
        "applicant",
        "+8613600136000",
        True,
    )
    ask_quiet = ask(world, notify=False, narrative="另一件事")
    assert ask_quiet.parties.first().notify is False


# --- parties added later ------------------------------------------------------------------------


def test_added_party_is_validated_like_at_intake(world, before):
    dispute = Dispute.objects.get()
    for party, code in (
        (person(name=" "), "name_required"),
        (person(phone="12"), "bad_phone"),
        (person(id_number="110105194912310021"), "bad_id_number"),
        (person(notify=True), "notify_needs_phone"),
    ):
        with pytest.raises(ServiceError) as caught:
            services.add_party(world.officer_a, dispute.code, party)
        assert caught.value.code == code
    assert state() == before


def test_added_party_is_named_by_role_in_chinese(world, before):
    dispute = Dispute.objects.get()
    services.add_party(world.officer_a, dispute.code, person(role="respondent"))
    event = DisputeEvent.objects.filter(dispute=dispute).latest("pk")
    assert event.message == "增加当事人（被申请方）"


def test_no_more_than_fifty_parties_in_all(world):
    dispute = file(world, parties=[person(name=f"村民{i}") for i in range(50)])
    with pytest.raises(ServiceError) as caught:
        services.add_party(world.officer_a, dispute.code, person(name="第五十一位"))
    assert caught.value.code == "too_many_parties"
    assert dispute.parties.count() == 50


def test_no_party_is_added_to_a_settled_dispute(world, before):
    dispute = Dispute.objects.get()
    services.resolve(world.officer_a, dispute.code, "已和解")
    count = Party.objects.count()
    with pytest.raises(Conflict):
        services.add_party(world.officer_a, dispute.code, person())
    assert Party.objects.count() == count


def test_declining_a_request_needs_a_reason_and_frees_the_residents_quota(world):
    request = ask(world)
    for reason in ("", "   "):
        with pytest.raises(ServiceError) as caught:
            services.decline_request(world.officer_a, request.code, reason)
        assert caught.value.code == "reason_required"
    request.refresh_from_db()
    assert request.status == "pending"
    with pytest.raises(Forbidden):
        services.decline_request(world.citizen, request.code, "自己撤回")
    services.decline_request(world.officer_a, request.code, "属于法院已受理案件")
    request.refresh_from_db()
    assert request.status == "declined" and request.resolution_note == "属于法院已受理案件"
    declined = DisputeEvent.objects.filter(dispute=request).latest("pk")
    assert declined.kind == "declined" and declined.public
    with pytest.raises(Conflict):
        services.decline_request(world.officer_a, request.code, "再拒一次")
    with pytest.raises(Conflict):
        services.accept_request(world.officer_a, request.code)
    assert_stats_match_rebuild()


def test_a_missing_title_is_the_narratives_first_sentence(world):
    from pingan.disputes.validation import summary_title

    assert summary_title("两家因宅基地边界争吵。昨晚又吵了起来") == "两家因宅基地边界争吵"
    long = "张某与邻居因排水沟争吵，张某手持镰刀扬言要砍死对方，现场已被劝开"
    title = summary_title(long)
    assert title == "张某与邻居因排水沟争吵，张某手持镰刀扬言要砍死对方…"
    assert len(title) <= 30
    assert len(summary_title("甲" * 80)) == 30
    dispute = file(world, narrative="两家因宅基地边界争吵。王某扬言报复")
    assert dispute.title == "两家因宅基地边界争吵"
