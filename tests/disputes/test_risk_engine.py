"""The rules engine on its own: plain `Facts` in, colour and reasons out, no database."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingan.disputes.risk import (
    DEFAULT_RULES,
    GREEN,
    LEVELS,
    RANK,
    RED,
    VULNERABILITY_LABELS,
    YELLOW,
    Facts,
    RuleError,
    compile_rule,
    compile_rules,
    evaluate,
)


def _compile(rule: dict):
    return compile_rule(rule["code"], rule["name"], rule["kind"], rule["params"], rule["level"])


DEFAULTS = [_compile(rule) for rule in DEFAULT_RULES]
LEVEL_OF = {rule["code"]: rule["level"] for rule in DEFAULT_RULES}
PLAIN = "两家因宅基地边界争吵"


def fired(facts: Facts, rules=DEFAULTS) -> set[str]:
    return {reason.rule for reason in evaluate(facts, rules).reasons}


# (rule, facts on which it fires, a near miss on which it must stay quiet). Each firing case
# is built so that no other default rule fires, which also checks the others stay quiet.
CASES = [
    ("threat-violence", Facts("王某扬言要砍死对方"), Facts("王某上山砍柴时与对方争吵")),
    ("threat-violence", Facts("说要放火烧了他家"), Facts("说要找村委会评理")),
    ("self-harm", Facts("李某说不想活了"), Facts("李某说想活得清净些")),
    ("self-harm", Facts("扬言要喝农药"), Facts("在地里打农药时起争执")),
    ("weapon", Facts("双方持刀对峙"), Facts("双方持证对峙")),
    ("weapon", Facts("手里提着一桶汽油"), Facts("手里提着一桶油漆")),
    ("repeat-90d", Facts(PLAIN, repeat_gaps_days=(30.0,)), Facts(PLAIN, repeat_gaps_days=(120.0,))),
    ("repeat-90d", Facts(PLAIN, repeat_gaps_days=(90.0,)), Facts(PLAIN, repeat_gaps_days=(90.5,))),
    (
        "vulnerable-party",
        Facts(PLAIN, vulnerabilities=frozenset({"elderly"})),
        Facts(PLAIN, vulnerabilities=frozenset()),
    ),
    ("many-parties", Facts(PLAIN, party_count=5), Facts(PLAIN, party_count=4)),
    ("stale-15d", Facts(PLAIN, days_without_progress=16), Facts(PLAIN, days_without_progress=14)),
    (
        "stale-15d",
        Facts(PLAIN, days_without_progress=15),
        # A settled dispute has no "progress" to wait for, however long ago it was.
        Facts(PLAIN, days_without_progress=400, is_open=False),
    ),
    ("large-amount", Facts(PLAIN, amount_yuan=100000), Facts(PLAIN, amount_yuan=99999.99)),
    ("large-amount", Facts(PLAIN, amount_yuan=2e6), Facts(PLAIN, amount_yuan=None)),
    ("relapse", Facts(PLAIN, relapse_count=1), Facts(PLAIN, relapse_count=0)),
]


@pytest.mark.parametrize(("code", "fires", "quiet"), CASES)
def test_each_default_rule_fires_and_stays_quiet(code, fires, quiet):
    assessment = evaluate(fires, DEFAULTS)
    assert {r.rule for r in assessment.reasons} == {code}
    assert assessment.level == LEVEL_OF[code]
    [reason] = assessment.reasons
    assert reason.detail  # the explanation shown next to the colour
    assert reason.as_dict()["rule"] == code
    assert fired(quiet) == set()
    assert evaluate(quiet, DEFAULTS).level == GREEN


def test_every_default_rule_has_a_case():
    assert {code for code, _, _ in CASES} == {rule["code"] for rule in DEFAULT_RULES}


def test_keyword_detail_names_the_word_found():
    [reason] = evaluate(Facts("他说要同归于尽"), DEFAULTS).reasons
    assert "同归于尽" in reason.detail


def test_vulnerable_rule_limited_to_some_kinds():
    rule = compile_rule("minor", "涉及未成年人", "vulnerable", {"kinds": ["minor"]}, YELLOW)
    assert fired(Facts(PLAIN, vulnerabilities=frozenset({"minor", "elderly"})), [rule]) == {"minor"}
    assert fired(Facts(PLAIN, vulnerabilities=frozenset({"elderly"})), [rule]) == set()


def test_red_outranks_yellow_and_red_reasons_come_first():
    facts = Facts("扬言砍死对方", party_count=6, relapse_count=2)
    assessment = evaluate(facts, DEFAULTS)
    assert assessment.level == RED
    assert [r.level for r in assessment.reasons] == [RED, YELLOW, YELLOW]
    assert {r.rule for r in assessment.reasons} == {"threat-violence", "many-parties", "relapse"}


def test_compile_rules_skips_inactive_rows():
    class Row:
        def __init__(self, rule, active):
            self.__dict__.update(rule, active=active)

    rows = [Row(rule, rule["code"] != "weapon") for rule in DEFAULT_RULES]
    compiled = compile_rules(rows)
    assert "weapon" not in {r.code for r in compiled}
    assert fired(Facts("持刀对峙"), compiled) == set()
    assert len(compiled) == len(DEFAULT_RULES) - 1


BAD_RULES = [
    ("keywords", {}, YELLOW),
    ("keywords", {"keywords": []}, YELLOW),
    ("keywords", {"keywords": "砍死"}, YELLOW),
    ("keywords", {"keywords": ["  ", ""]}, YELLOW),
    ("repeat", {"days": 0}, YELLOW),
    ("repeat", {"days": "90"}, YELLOW),
    ("repeat", {"days": True}, YELLOW),
    ("repeat", {"days": 1.5}, YELLOW),
    ("repeat", {}, YELLOW),
    # JSON typed into the admin may carry NaN or Infinity (Python's json accepts both).
    ("repeat", {"days": math.nan}, YELLOW),
    ("stale", {"days": math.inf}, YELLOW),
    ("amount", {"yuan": math.nan}, YELLOW),
    ("amount", {"yuan": math.inf}, YELLOW),
    ("vulnerable", {"kinds": ["alien"]}, YELLOW),
    ("vulnerable", {"kinds": "elderly"}, YELLOW),
    ("party_count", {"min": 1}, YELLOW),
    ("stale", {"days": -3}, YELLOW),
    ("amount", {"yuan": 0}, YELLOW),
    ("amount", {"yuan": None}, YELLOW),
    ("relapse", {"min": 0}, YELLOW),
    ("moon_phase", {}, YELLOW),
    ("repeat", {"days": 90}, GREEN),
    ("repeat", [90], YELLOW),
]


@pytest.mark.parametrize(("kind", "params", "level"), BAD_RULES)
def test_bad_rule_params_raise_rule_error(kind, params, level):
    with pytest.raises(RuleError) as caught:
        compile_rule("bad", "坏规则", kind, params, level)
    assert str(caught.value)  # a message the administrator can read


def test_amount_threshold_may_be_fractional():
    rule = compile_rule("amt", "金额", "amount", {"yuan": 1000.5}, YELLOW)
    assert fired(Facts(PLAIN, amount_yuan=1000.5), [rule]) == {"amt"}
    assert fired(Facts(PLAIN, amount_yuan=1000.49), [rule]) == set()


# --- properties ---------------------------------------------------------------------------------

KEYWORDS = [word for rule in DEFAULT_RULES for word in rule["params"].get("keywords", [])]
any_float = st.floats(allow_nan=True, allow_infinity=True)

facts_strategy = st.builds(
    Facts,
    narrative=st.lists(st.sampled_from(KEYWORDS) | st.text(max_size=20), max_size=6).map("".join),
    party_count=st.integers(min_value=-10, max_value=10**6),
    vulnerabilities=st.frozensets(st.sampled_from([*VULNERABILITY_LABELS, "unknown"])),
    repeat_gaps_days=st.lists(any_float, max_size=5).map(tuple),
    days_without_progress=any_float,
    is_open=st.booleans(),
    amount_yuan=st.none() | any_float,
    relapse_count=st.integers(min_value=-3, max_value=10**4),
)

tuned_rules = st.lists(
    st.one_of(
        st.builds(lambda d: ("repeat", {"days": d}), st.integers(1, 400)),
        st.builds(lambda d: ("stale", {"days": d}), st.integers(1, 400)),
        st.builds(lambda n: ("party_count", {"min": n}), st.integers(2, 60)),
        st.builds(lambda y: ("amount", {"yuan": y}), st.floats(1, 1e12)),
        st.builds(lambda n: ("relapse", {"min": n}), st.integers(1, 10)),
        st.builds(
            lambda k: ("vulnerable", {"kinds": sorted(k)}),
            st.frozensets(st.sampled_from(list(VULNERABILITY_LABELS))),
        ),
        st.builds(
            lambda w: ("keywords", {"keywords": w}),
            st.lists(st.text(min_size=1, max_size=5).filter(str.strip), min_size=1, max_size=4),
        ),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(facts=facts_strategy, extra=tuned_rules, levels=st.lists(st.sampled_from(LEVELS)))
def test_evaluate_never_raises_and_level_is_the_worst_reason(facts, extra, levels):
    rules = DEFAULTS + [
        compile_rule(f"extra-{i}", "调参规则", kind, params, levels[i] if i < len(levels) else RED)
        for i, (kind, params) in enumerate(extra)
    ]
    assessment = evaluate(facts, rules)
    worst = max((RANK[r.level] for r in assessment.reasons), default=RANK[GREEN])
    assert RANK[assessment.level] == worst
    assert (assessment.level == GREEN) == (not assessment.reasons)
    assert all(r.level in LEVELS and r.detail for r in assessment.reasons)
    ranks = [RANK[r.level] for r in assessment.reasons]
    assert ranks == sorted(ranks, reverse=True)
    assert len({r.rule for r in assessment.reasons}) == len(assessment.reasons)


@given(days=st.sampled_from([math.nan, math.inf, -math.inf]), open_=st.booleans())
def test_non_finite_waiting_time_does_not_crash_the_stale_rule(days, open_):
    facts = Facts(PLAIN, days_without_progress=days, is_open=open_)
    # Not a number never fires; an infinitely long wait does (when the dispute is open).
    assert fired(facts) == ({"stale-15d"} if open_ and days == math.inf else set())


def test_not_a_number_amount_or_gap_does_not_fire():
    assert fired(Facts(PLAIN, amount_yuan=math.nan)) == set()
    assert fired(Facts(PLAIN, repeat_gaps_days=(math.nan,))) == set()
    assert fired(Facts(PLAIN, amount_yuan=math.inf)) == {"large-amount"}
