"""Benchmark dispute risk evaluation and the statistics over 1,000,000 disputes.

    python -m bench.bench_disputes --db sqlite   [--disputes 1000000] [--reload]
    python -m bench.bench_disputes --db postgres [--disputes 1000000] [--reload]

What it does:

1. Prepares a database: a SQLite file under ``--cache-dir`` or the PostgreSQL database
   ``bench_disputes`` (dropped and created), migrated, then loaded (reused when a database with
   the same size and seed is already there, unless ``--reload``):
   1 city bureau → 1 county bureau → 4 stations → 16 police offices (22 units), 2 grids per
   office, one officer per office (the owner of its disputes), a chief per station, a county
   commander and a superuser; ``--disputes`` disputes registered uniformly over the two years
   before 2026-11-23, bypassing the services: bulk ``INSERT`` (SQLite) or ``COPY``
   (PostgreSQL). The mix: 8 types, 5 channels, 3 routes (or none yet), every status (older
   disputes mostly settled: days to resolve are log-normal with a 6-day median, 5 % never
   settle), 2–6 parties each (55 % two) drawn from a population of 0.8 x disputes people and
   5,000 organisations, 5 % of disputes re-using the first two parties of an earlier one
   within 90 days (so the repeat rule has something to find), 5 % of parties vulnerable,
   ~3 % of narratives with threat keywords, amounts on a third of them. Colours are set by a
   rough rule at load (the first re-evaluation below corrects the open ones). Timeline
   events are not generated. Then ``stats.rebuild_stats()`` fills the statistics cells.
2. Risk evaluation:
   (a) the pure engine: ``risk.evaluate`` with the default rules over the facts of every
   generated dispute, built in memory from the generated columns (narrative, parties,
   vulnerabilities, the planted repeats, days without progress, amount, relapses), so only
   the engine is timed (disputes/s);
   (b) the full path, ``bulk.reassess_all`` over the open disputes, four times: right after
   the load (most reasons and many colours change: updates and events), again (steady
   state: nothing changes), after adding a red keyword rule (disputes turning red: events,
   red alerts and live pushes) and after removing it again; ``rebuild_stats`` is timed in
   the load;
   (c) for comparison, ``services.reassess`` one dispute at a time (lock, evaluate, save, as
   the periodic sweep does) on ``--sample`` open disputes.
3. ``queries.summary``: cold (the first call in a fresh Python process: new connection, ORM
   caches empty; the operating system's page cache and PostgreSQL's buffers stay warm) and
   warm (p50 / p99 of ``--runs`` calls in one process), for a superuser over everything, the
   county commander over all time and over one year, and a station chief over one year.
4. The page and the export over HTTP through Django's test ``Client`` (the whole middleware
   stack, session and template; no network): ``GET /console/disputes/stats/`` and
   ``/console/disputes/stats.xlsx`` as the county commander, all time and one year.

Target (issue #3): the statistics in under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from bench._keys import ENV as KEYS

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_DB = "bench_disputes"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
LOCAL = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=LOCAL)
SPAN_DAYS = 730
YEAR = (date(2025, 12, 1), date(2026, 11, 1))
GRIDS = 32  # 4 stations x 4 offices x 2 grids, as build_world makes them
STATS_URL = "/console/disputes/stats/"
EXPORT_URL = "/console/disputes/stats.xlsx"

TYPES = (
    ("marriage_family", 0.18),
    ("neighbour", 0.25),
    ("land_housing", 0.15),
    ("labour_wages", 0.12),
    ("debt", 0.10),
    ("contract_consumer", 0.08),
    ("enterprise", 0.04),
    ("other", 0.08),
)
CHANNELS = (
    ("cadre_grid", 0.40),
    ("community_work", 0.25),
    ("online", 0.05),
    ("case", 0.15),
    ("citizen_request", 0.15),
)
ROUTES = ("grassroots", "judicial", "departmental", "")
BODIES = {
    "grassroots": ("village_committee", "grid_station"),
    "judicial": ("mediation_committee", "shared_court", "judicial_office"),
    "departmental": ("labour", "market", "housing", "other_department"),
    "": ("",),
}
NARRATIVES = [
    "两家因宅基地边界争吵多次，村委会调解未果",
    "楼上漏水损坏楼下装修，双方就赔偿金额争执",
    "夫妻因家庭琐事长期争吵，女方要求离婚",
    "工地拖欠农民工工资三个月，工人多次讨要",
    "借款到期未还，债权人多次上门催讨",
    "网购商品质量问题，商家拒绝退货",
    "承包地流转费用结算争议",
    "相邻养殖场气味扰民，村民集体反映",
    "兄弟分家析产，对老宅归属有争议",
    "租客拖欠房租并拒绝搬离",
    "车辆剐蹭后就修理费用协商不成",
    "物业费收取标准争议，业主拒缴",
    "山林界址不清，两村村民发生口角",
    "企业欠付供应商货款，对方多次催收",
    "老人赡养费用分摊，子女意见不一",
    "噪音扰民，多次协商无果",
    "宠物狗咬伤邻居小孩，赔偿未谈妥",
    "装修公司延期交房，业主要求赔偿",
    "扬言要砍死对方，情绪十分激动",  # red: threat
    "当事人称再不解决就喝农药",  # red: self-harm
    "对方持刀到家门口吵闹",  # red: weapon
]
# How often each narrative is drawn: the three red ones ~3 % together.
NARRATIVE_P = np.array([1.0] * 18 + [0.19, 0.18, 0.19])
NARRATIVE_P = NARRATIVE_P / NARRATIVE_P.sum()
RED_NARRATIVES = {18, 19, 20}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国志强春梅海燕林"
VULNERABLE = ("elderly", "minor", "disabled", "mental", "pregnant")
# An administrator tuning the rules: wage arrears chased again and again become red.
RED_RULE = {
    "code": "bench-wage-arrears",
    "name": "多次讨薪（基准测试）",
    "kind": "keywords",
    "level": "red",
    "params": {"keywords": ["多次讨要"]},
}


# --- environment and database -------------------------------------------------------------------


def configure(args) -> None:
    """Point pingan.settings at the bench database, then start Django."""
    data_dir = Path(args.cache_dir) / f"data-{args.db}"
    data_dir.mkdir(parents=True, exist_ok=True)
    if args.db == "sqlite":
        url = f"sqlite:///{Path(args.cache_dir) / f'disputes-{args.disputes}-s{args.seed}.sqlite3'}"
    else:
        url = PG_URL
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "pingan.settings",
            **KEYS,
            "DATABASE_URL": url,
            "PINGAN_DATA_DIR": str(data_dir),
            "LOG_LEVEL": "ERROR",
        }
    )
    for key in ("REDIS_URL", "PINGAN_DEMO", "PINGAN_DEBUG", "PINGAN_TESTING"):
        os.environ.pop(key, None)
    import django

    django.setup()
    if args.db == "sqlite" and getattr(args, "sqlite_cache_mb", 0):
        from django.db.backends.signals import connection_created

        def bigger_cache(sender, connection, **kwargs):
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute(f"PRAGMA cache_size = -{args.sqlite_cache_mb * 1024}")
                    cursor.execute(f"PRAGMA mmap_size = {args.sqlite_cache_mb * 1024 * 1024}")

        connection_created.connect(bigger_cache, weak=False)


def sqlite_path(args) -> Path:
    return Path(args.cache_dir) / f"disputes-{args.disputes}-s{args.seed}.sqlite3"


def recreate(args) -> None:
    if args.db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path(args)}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")


def marker_path(args) -> Path:
    return Path(args.cache_dir) / f"{args.db}-loaded.json"


def stamp(args) -> dict:
    return {"disputes": args.disputes, "seed": args.seed, "version": 1}


def is_loaded(args) -> bool:
    marker = marker_path(args)
    if args.reload or not marker.exists() or json.loads(marker.read_text()) != stamp(args):
        return False
    if args.db == "sqlite" and not sqlite_path(args).exists():
        return False
    if args.db == "postgres":
        import psycopg

        try:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                found = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)
                ).fetchone()
        except psycopg.Error:
            return False
        if not found:
            return False
    return True


@contextmanager
def stage(name: str, timings: dict):
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    print(f"  {name:<40} {timings[name]:8.1f} s", flush=True)


# --- the world ----------------------------------------------------------------------------------


def build_world() -> dict:
    import shapely
    from django.contrib.auth.hashers import make_password

    from pingan.accounts.models import Role, User
    from pingan.orgs import services as orgs
    from pingan.orgs.models import OrgKind

    unusable = make_password(None)

    def user(username, role, org=None, **extra):
        return User.objects.create(
            username=username,
            password=unusable,
            role=role,
            org=org,
            display_name=extra.pop("display_name", username),
            **extra,
        )

    city = orgs.create_org(code="BD00", name="基准市公安局", kind=OrgKind.CITY_BUREAU)
    county = orgs.create_org(
        code="BD01", name="基准县公安局", kind=OrgKind.COUNTY_BUREAU, parent=city
    )
    commander = user("bd-commander", Role.COMMANDER, county)
    root = user("bd-root", Role.COMMANDER, None, is_superuser=True, is_staff=True)
    stations, chiefs, grids = [], [], []
    for s in range(4):
        station = orgs.create_org(
            code=f"BD01{s + 1:02d}",
            name=f"第{s + 1}派出所",
            kind=OrgKind.STATION,
            parent=county,
        )
        stations.append(station)
        chiefs.append(user(f"bd-chief{s + 1}", Role.COMMANDER, station))
        for o in range(4):
            office = orgs.create_org(
                code=f"{station.code}{o + 1:02d}",
                name=f"{station.name}第{o + 1}警务室",
                kind=OrgKind.POLICE_OFFICE,
                parent=station,
            )
            officer = user(f"bd-officer{s + 1}{o + 1}", Role.OFFICER, office)
            for g in range(2):
                x = 114.0 + (s * 8 + o * 2 + g) * 0.02
                grids.append(
                    orgs.save_grid(
                        code=f"BDG{s + 1}{o + 1}{g + 1}",
                        name=f"{office.name}网格{g + 1}",
                        kind="rural_village" if g else "urban_community",
                        org=office,
                        geometry=shapely.box(x, 26.0, x + 0.02, 26.02),
                        officer=officer,
                    )
                )
    return {
        "commander": commander,
        "root": root,
        "chiefs": chiefs,
        "stations": stations,
        "grids": [(g.pk, g.org_id, g.org.path, g.officer_id) for g in grids],
    }


def world_users():
    from pingan.accounts.models import User

    return {
        "commander": User.objects.get(username="bd-commander"),
        "root": User.objects.get(username="bd-root"),
        "chief": User.objects.get(username="bd-chief1"),
    }


# --- generating and inserting the disputes ------------------------------------------------------


def _choice(rng, table, n):
    values = np.array([v for v, _ in table])
    p = np.array([p for _, p in table])
    return values[rng.choice(len(values), n, p=p / p.sum())]


def generate(n: int, seed: int, grids: list) -> dict:
    """Column arrays for n disputes and their parties, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    now_ts = int(NOW.timestamp())
    start_ts = now_ts - SPAN_DAYS * 86400
    reported = np.sort(rng.integers(start_ts, now_ts - 600, n))
    age_days = (now_ts - reported) / 86400
    grid_of = rng.choice(len(grids), n, p=_grid_weights(len(grids)))
    types = _choice(rng, TYPES, n)
    channels = _choice(rng, CHANNELS, n)
    citizen = channels == "citizen_request"
    resolve_s = (rng.lognormal(np.log(6), 1.0, n) * 86400).astype(np.int64)
    resolved_ts = reported + resolve_s
    stuck = rng.random(n) < 0.05
    unresolved = stuck | (resolved_ts > now_ts)
    pending = unresolved & citizen & (age_days < 3) & (rng.random(n) < 0.6)
    declined = ~unresolved & citizen & (rng.random(n) < 0.08)
    settled = ~unresolved & ~declined
    closed = settled & (resolved_ts + 30 * 86400 < now_ts)
    status = np.where(
        pending,
        "pending",
        np.where(
            unresolved,
            "open",
            np.where(declined, "declined", np.where(closed, "closed", "resolved")),
        ),
    )
    relapse = np.zeros(n, dtype=np.int64)
    relapse[settled & (rng.random(n) < 0.04)] = 1
    relapse[settled & (relapse == 1) & (rng.random(n) < 0.1)] = 2
    relapse[unresolved & ~pending & stuck & (age_days > 40) & (rng.random(n) < 0.25)] = 1
    route_settled = rng.choice(4, n, p=[0.55, 0.28, 0.14, 0.03])
    route_open = rng.choice(4, n, p=[0.35, 0.20, 0.10, 0.35])
    route_idx = np.where(settled, route_settled, np.where(unresolved & ~pending, route_open, 3))
    body_pick = rng.integers(0, 12, n)
    narrative_idx = rng.choice(len(NARRATIVES), n, p=NARRATIVE_P)
    money_types = np.isin(types, ["labour_wages", "debt", "contract_consumer", "enterprise"])
    has_amount = rng.random(n) < np.where(money_types, 0.6, 0.1)
    amount = np.round(rng.lognormal(np.log(8000), 1.4, n), 2)
    progress_ts = np.where(
        closed,
        resolved_ts + 30 * 86400,
        np.where(
            settled,
            resolved_ts,
            np.where(
                declined, reported + 2 * 86400, reported + rng.random(n) * (now_ts - reported)
            ),
        ),
    ).astype(np.int64)
    # Parties: 2-6 each, from a population; 5 % of disputes repeat an earlier pair.
    counts = rng.choice([2, 3, 4, 5, 6], n, p=[0.55, 0.22, 0.12, 0.07, 0.04])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    total_parties = int(counts.sum())
    population = max(int(n * 0.8), 10)
    person = rng.integers(0, population, total_parties)
    is_org = rng.random(total_parties) < 0.08
    person = np.where(is_org, rng.integers(0, 5000, total_parties), person)
    per_day = n / SPAN_DAYS
    repeat = np.flatnonzero(rng.random(n) < 0.05)
    back = rng.integers(1, max(int(90 * per_day), 2), len(repeat))
    source = repeat - back
    keep = source >= 0
    repeat, source = repeat[keep], source[keep]
    for k in (0, 1):
        person[starts[repeat] + k] = person[starts[source] + k]
        is_org[starts[repeat] + k] = is_org[starts[source] + k]
    vulnerable = np.where(
        ~is_org & (rng.random(total_parties) < 0.05),
        rng.integers(1, len(VULNERABLE) + 1, total_parties),
        0,
    )
    any_vulnerable = np.maximum.reduceat(vulnerable, starts) > 0
    red = np.isin(narrative_idx, list(RED_NARRATIVES))
    repeated = np.zeros(n, dtype=bool)
    repeated[repeat] = True
    yellow = (
        any_vulnerable
        | (has_amount & (amount >= 100_000))
        | (counts >= 5)
        | (relapse > 0)
        | repeated
    )
    risk = np.where(red, "red", np.where(yellow, "yellow", "green"))
    override = unresolved & ~pending & (rng.random(n) < 0.003)
    return {
        "n": n,
        "reported": reported,
        "grid_of": grid_of,
        "types": types,
        "channels": channels,
        "status": status,
        "settled": settled,
        "closed": closed,
        "declined": declined,
        "pending": pending,
        "resolved_ts": resolved_ts,
        "progress_ts": progress_ts,
        "relapse": relapse,
        "route_idx": route_idx,
        "body_pick": body_pick,
        "narrative_idx": narrative_idx,
        "has_amount": has_amount,
        "amount": amount,
        "risk": risk,
        "override": override,
        "counts": counts,
        "starts": starts,
        "person": person,
        "is_org": is_org,
        "vulnerable": vulnerable,
        "repeat": repeat,
        "repeat_source": source,
    }


def _grid_weights(count: int) -> np.ndarray:
    # Some grids are busier than others (town centres versus hill villages).
    weights = 1.0 + (np.arange(count) % 5) * 0.6
    return weights / weights.sum()


def _times(seconds: np.ndarray, kind: str) -> np.ndarray:
    """UTC timestamps as the text each database takes: Django's naive UTC text on SQLite."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    text = np.char.replace(text, "T", " ")
    return np.char.add(text, "+00") if kind == "postgres" else text


def _codes(reported: np.ndarray) -> list[str]:
    local_day = (reported + 8 * 3600) // 86400
    _, first = np.unique(local_day, return_index=True)
    first_of = np.repeat(first, np.diff(np.append(first, len(local_day))))
    seq = np.arange(len(local_day)) - first_of + 1
    days = np.char.replace(
        np.datetime_as_string(local_day.astype("datetime64[D]"), unit="D"), "-", ""
    )
    return [f"JF{d}-{s:06d}" for d, s in zip(days.tolist(), seq.tolist(), strict=True)]


DISPUTE_COLUMNS = [
    "id",
    "code",
    "type",
    "channel",
    "source_note",
    "incident_id",
    "title",
    "narrative",
    "amount_yuan",
    "grid_id",
    "org_id",
    "org_path",
    "address",
    "status",
    "risk",
    "risk_computed",
    "risk_reasons",
    "risk_override",
    "risk_override_reason",
    "risk_override_by_id",
    "risk_override_at",
    "risk_evaluated_at",
    "route",
    "route_body",
    "handoff_body",
    "handoff_contact",
    "handoff_phone",
    "owner_id",
    "filed_by_id",
    "requester_id",
    "reported_at",
    "accepted_at",
    "last_progress_at",
    "resolved_at",
    "closed_at",
    "resolution_note",
    "relapse_count",
]
PARTY_COLUMNS = [
    "dispute_id",
    "kind",
    "role",
    "name",
    "id_number",
    "id_number_hash",
    "phone",
    "phone_hash",
    "address",
    "vulnerability",
    "notify",
    "key",
]


def dispute_rows(data: dict, grids: list, kind: str, lo: int, hi: int):
    from pingan.disputes.models import DisputeType

    labels = dict(DisputeType.choices)
    sl = slice(lo, hi)
    reported = _times(data["reported"][sl], kind).tolist()
    progress = _times(data["progress_ts"][sl], kind).tolist()
    resolved = _times(data["resolved_ts"][sl], kind).tolist()
    closed_ts = np.where(
        data["declined"][sl], data["reported"][sl] + 2 * 86400, data["resolved_ts"][sl] + 30 * 86400
    )
    closed = _times(closed_ts, kind).tolist()
    codes = data["codes"][lo:hi]
    rows = []
    for j in range(hi - lo):
        i = lo + j
        grid_id, org_id, org_path, officer_id = grids[data["grid_of"][i]]
        status = data["status"][i]
        settled, is_closed = data["settled"][i], data["closed"][i]
        declined, pending = data["declined"][i], data["pending"][i]
        route = ROUTES[data["route_idx"][i]]
        bodies = BODIES[route]
        narrative = NARRATIVES[data["narrative_idx"][i]]
        override = data["override"][i]
        risk = "yellow" if override else data["risk"][i]
        rows.append(
            (
                i + 1,
                codes[j],
                data["types"][i],
                data["channels"][i],
                "",
                None,
                f"{labels[data['types'][i]]}：{narrative[:12]}",
                narrative,
                f"{data['amount'][i]:.2f}" if data["has_amount"][i] else None,
                grid_id,
                org_id,
                org_path,
                "",
                status,
                risk,
                data["risk"][i],
                "[]",
                "yellow" if override else "",
                "人工研判：当事人情绪稳定，暂定黄色" if override else "",
                None,
                progress[j] if override else None,
                progress[j],
                route,
                bodies[data["body_pick"][i] % len(bodies)],
                "承办机构" if route else "",
                "联系人" if route else "",
                "",
                officer_id,
                officer_id,
                None,
                reported[j],
                None if pending else reported[j],
                progress[j],
                resolved[j] if settled else None,
                closed[j] if (is_closed or declined) else None,
                "双方达成一致" if settled else ("不属于受理范围" if declined else ""),
                int(data["relapse"][i]),
            )
        )
    return rows


def party_rows(data: dict, lo: int, hi: int):
    from pingan.core import crypto
    from pingan.disputes.validation import party_key

    starts, counts = data["starts"], data["counts"]
    begin = int(starts[lo])
    end = int(starts[hi - 1] + counts[hi - 1])
    dispute_of = np.repeat(np.arange(lo, hi) + 1, counts[lo:hi]).tolist()
    position = (np.arange(begin, end) - np.repeat(starts[lo:hi], counts[lo:hi])).tolist()
    person = data["person"][begin:end].tolist()
    is_org = data["is_org"][begin:end].tolist()
    vulnerable = data["vulnerable"][begin:end].tolist()
    rows = []
    n_sur, n_given = len(SURNAMES), len(GIVEN)
    for k in range(end - begin):
        p = person[k]
        role = ("applicant", "respondent")[position[k]] if position[k] < 2 else "other"
        if is_org[k]:
            name = f"某某有限公司{p:04d}"
            key = party_key("organisation", name, "", "")
            rows.append(
                (dispute_of[k], "organisation", role, name, "", "", "", "", "", "", False, key)
            )
            continue
        name = SURNAMES[p % n_sur] + GIVEN[(p // n_sur) % n_given] + GIVEN[(p // 7) % n_given]
        phone = f"+86139{p:08d}"
        # As the app stores them: the phone encrypted (SM4) with its blind index, the party's
        # identity as a keyed hash (pingan/core/fields.py, disputes/validation.py).
        rows.append(
            (
                dispute_of[k],
                "person",
                role,
                name,
                "",
                "",
                crypto.encrypt(phone),
                crypto.blind_index("phone", phone),
                "",
                VULNERABLE[vulnerable[k] - 1] if vulnerable[k] else "",
                False,
                party_key("person", name, "", phone),
            )
        )
    return rows


def insert(kind: str, table: str, columns: list[str], rows: list[tuple]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if kind == "postgres":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def load(args) -> tuple[dict, dict]:
    from django.core.management import call_command
    from django.db import connection, transaction

    from pingan.disputes.stats import rebuild_stats

    timings: dict[str, float] = {}
    with stage("migrate", timings):
        call_command("migrate", verbosity=0)
    with stage("org tree, grids, users", timings), transaction.atomic():
        world = build_world()
    with stage("generate columns", timings):
        data = generate(args.disputes, args.seed, world["grids"])
        data["codes"] = _codes(data["reported"])
    chunk = 50_000
    if args.db == "sqlite":
        # Loading only: a 1 GiB page cache keeps the index B-trees in memory while inserting.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1048576")
    with stage(f"insert {args.disputes:,} disputes", timings):
        for lo in range(0, args.disputes, chunk):
            hi = min(lo + chunk, args.disputes)
            with transaction.atomic():
                insert(
                    args.db,
                    "disputes_dispute",
                    DISPUTE_COLUMNS,
                    dispute_rows(data, world["grids"], args.db, lo, hi),
                )
        if args.db == "postgres":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('disputes_dispute', 'id'), "
                    "(SELECT max(id) FROM disputes_dispute))"
                )
    parties = int(data["counts"].sum())
    with stage(f"insert {parties:,} parties", timings):
        for lo in range(0, args.disputes, chunk):
            hi = min(lo + chunk, args.disputes)
            with transaction.atomic():
                insert(args.db, "disputes_party", PARTY_COLUMNS, party_rows(data, lo, hi))
    with stage("analyze", timings), connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with stage("rebuild_stats (1st, after the load)", timings):
        cells = rebuild_stats()
    with stage("analyze", timings), connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  {cells:,} statistics cells; {parties:,} parties", flush=True)
    timings["cells"] = cells
    timings["parties"] = parties
    return timings, data


# --- measurements -------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def engine_pass(data: dict, chunk: int = 100_000) -> dict:
    """The pure rules engine over the facts of every generated dispute, built in memory from
    the generated columns (so only `risk.evaluate` is timed), with the default rules."""
    from pingan.disputes import risk as engine
    from pingan.disputes.assessment import compiled_rules
    from pingan.disputes.models import DisputeType

    rules = compiled_rules()
    labels = dict(DisputeType.choices)
    n, now_ts = data["n"], NOW.timestamp()
    starts, counts, vulnerable = data["starts"], data["counts"], data["vulnerable"]
    reported = data["reported"]
    gaps: dict[int, list[float]] = {}
    for i, j in zip(data["repeat"].tolist(), data["repeat_source"].tolist(), strict=True):
        gap = (reported[i] - reported[j]) / 86400
        gaps.setdefault(i, []).append(gap)
        gaps.setdefault(j, []).append(gap)
    build = evaluate = 0.0
    colours: dict[str, int] = {}
    fired: dict[str, int] = {}
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        t0 = time.perf_counter()
        facts = []
        for i in range(lo, hi):
            narrative = NARRATIVES[data["narrative_idx"][i]]
            kinds = vulnerable[starts[i] : starts[i] + counts[i]]
            facts.append(
                engine.Facts(
                    narrative=f"{labels[data['types'][i]]}：{narrative[:12]}\n{narrative}",
                    party_count=int(counts[i]),
                    vulnerabilities=frozenset(VULNERABLE[k - 1] for k in kinds.tolist() if k),
                    repeat_gaps_days=tuple(gaps.get(i, ())),
                    days_without_progress=(now_ts - data["progress_ts"][i]) / 86400,
                    is_open=data["status"][i] in ("open", "pending"),
                    amount_yuan=float(data["amount"][i]) if data["has_amount"][i] else None,
                    relapse_count=int(data["relapse"][i]),
                )
            )
        t1 = time.perf_counter()
        results = [engine.evaluate(f, rules) for f in facts]
        t2 = time.perf_counter()
        build += t1 - t0
        evaluate += t2 - t1
        for result in results:
            colours[result.level] = colours.get(result.level, 0) + 1
            for reason in result.reasons:
                fired[reason.rule] = fired.get(reason.rule, 0) + 1
    return {
        "disputes": n,
        "rules": len(rules),
        "build_s": build,
        "engine_s": evaluate,
        "colours": colours,
        "fired": fired,
    }


def per_row_reassess(sample: int) -> dict:
    from django.db import transaction

    from pingan.disputes import services
    from pingan.disputes.assessment import compiled_rules
    from pingan.disputes.models import OPEN_STATUSES, Dispute
    from pingan.disputes.stats import tracked

    rules = compiled_rules()
    codes = list(
        Dispute.objects.filter(status__in=OPEN_STATUSES)
        .order_by("?")
        .values_list("code", flat=True)[:sample]
    )
    start = time.perf_counter()
    for code in codes:
        with transaction.atomic():
            dispute = (
                Dispute.objects.select_for_update().select_related("grid", "org").get(code=code)
            )
            with tracked(dispute):
                services.reassess(dispute, NOW, rules=rules)
                dispute.save(
                    update_fields=["risk", "risk_computed", "risk_reasons", "risk_evaluated_at"]
                )
    seconds = time.perf_counter() - start
    return {"disputes": len(codes), "seconds": seconds}


SUMMARY_CASES = (
    ("superuser, every unit, all time", "root", None, None),
    ("county commander, all time", "commander", None, None),
    ("county commander, one year", "commander", *YEAR),
    ("station chief, one year", "chief", *YEAR),
)


def summary_cold_probe(case: int) -> float:
    """Run in a fresh process: the first summary call, connection included."""
    from pingan.disputes import queries

    _, who, start, end = SUMMARY_CASES[case]
    user = world_users()[who]
    from django.db import connections

    connections.close_all()
    t0 = time.perf_counter()
    queries.summary(user, month_from=start, month_to=end)
    return time.perf_counter() - t0


def summary_timings(args) -> list[dict]:
    from pingan.disputes import queries

    users = world_users()
    out = []
    for index, (label, who, start, end) in enumerate(SUMMARY_CASES):
        colds = []
        for _ in range(args.cold_runs):
            probe = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.bench_disputes",
                    *args.passthrough,
                    "--cold-probe",
                    str(index),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            colds.append(float(probe.stdout.strip().splitlines()[-1]))
        warm = []
        result = None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            result = queries.summary(users[who], month_from=start, month_to=end)
            warm.append(time.perf_counter() - t0)
        out.append(
            {
                "case": label,
                "disputes": result["total"],
                "cold_ms": [c * 1000 for c in colds],
                "p50_ms": statistics.median(warm) * 1000,
                "p99_ms": pct(warm, 0.99) * 1000,
                "max_ms": max(warm) * 1000,
            }
        )
        print(
            f"  {label:<36} n={result['total']:>9,}  cold {statistics.median(colds) * 1000:7.1f} ms"
            f"  warm p50 {out[-1]['p50_ms']:6.1f}  p99 {out[-1]['p99_ms']:6.1f} ms",
            flush=True,
        )
    return out


class BenchUrls:
    """The project's URLs plus the statistics pages, in case they are not wired yet."""

    urlpatterns: list = []


def urlconf():
    from django.urls import NoReverseMatch, include, path, reverse

    from pingan.disputes import stats_views

    try:
        reverse("dispute-stats")
        reverse("dispute-stats-export")
        return None
    except NoReverseMatch:
        BenchUrls.urlpatterns = [
            path("", include("pingan.urls")),
            path(STATS_URL.lstrip("/"), stats_views.stats_page, name="dispute-stats"),
            path(EXPORT_URL.lstrip("/"), stats_views.stats_export, name="dispute-stats-export"),
        ]
        return BenchUrls


def http_timings(args) -> list[dict]:
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    conf = urlconf()
    users = world_users()
    cases = (
        ("page, all time", STATS_URL, {"from": "", "to": "", "org": ""}, args.runs),
        ("page, one year", STATS_URL, {"from": "2025-12", "to": "2026-11", "org": ""}, args.runs),
        ("export .xlsx, all time", EXPORT_URL, {"from": "", "to": "", "org": ""}, args.runs // 4),
        (
            "export .xlsx, one year",
            EXPORT_URL,
            {"from": "2025-12", "to": "2026-11"},
            args.runs // 4,
        ),
    )
    out = []
    settings_override = override_settings(ROOT_URLCONF=conf) if conf else None
    if settings_override:
        settings_override.enable()
    try:
        client = Client()
        client.force_login(users["commander"])
        for label, url, params, runs in cases:
            times = []
            first = None
            for _ in range(max(runs, 5)):
                t0 = time.perf_counter()
                response = client.get(url, params)
                times.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
                first = first or response
            with CaptureQueriesContext(connection) as queries_run:
                client.get(url, params)
            out.append(
                {
                    "case": label,
                    "bytes": len(first.content),
                    "queries": len(queries_run),
                    "first_ms": times[0] * 1000,
                    "p50_ms": statistics.median(times) * 1000,
                    "p99_ms": pct(times, 0.99) * 1000,
                    "max_ms": max(times) * 1000,
                }
            )
            print(
                f"  {label:<28} {len(first.content):>8,} B  {len(queries_run)} queries  "
                f"first {times[0] * 1000:6.1f}  p50 {out[-1]['p50_ms']:6.1f}  "
                f"p99 {out[-1]['p99_ms']:6.1f} ms",
                flush=True,
            )
    finally:
        if settings_override:
            settings_override.disable()
    return out


def busy_fraction(seconds: float = 2.0) -> float:
    """Share of the machine's CPU time spent busy over the next `seconds` (from /proc/stat)."""

    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def wait_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (up to max_wait s) until other jobs leave the machine idle; returns the last busy
    share seen. Other people's test runs share these cores."""
    deadline = time.monotonic() + max_wait
    busy = busy_fraction()
    while busy > threshold and time.monotonic() < deadline:
        print(f"  machine {busy:.0%} busy, waiting ...", flush=True)
        busy = busy_fraction(5.0)
    return busy


def machine() -> dict:
    import django
    from django.db import connection

    model = ""
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        db_version = cursor.fetchone()[0]
    return {
        "cpu": model,
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": f"{connection.vendor} {db_version}",
    }


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--disputes", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache-dir", default="/tmp/pingan-bench-disputes")
    parser.add_argument("--reload", action="store_true", help="drop and load the data again")
    parser.add_argument("--batch", type=int, default=2000, help="disputes per evaluation batch")
    parser.add_argument("--sample", type=int, default=1000, help="disputes for the per-row path")
    parser.add_argument("--runs", type=int, default=100, help="warm runs per statistics case")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes per case")
    parser.add_argument(
        "--sqlite-cache-mb",
        type=int,
        default=0,
        help="SQLite page cache and mmap size per connection (default: pingan's settings)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        help="before each measured phase, wait up to this many seconds for an idle machine",
    )
    parser.add_argument("--skip-evaluation", action="store_true")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--cold-probe", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.passthrough = [
        "--db",
        args.db,
        "--disputes",
        str(args.disputes),
        "--seed",
        str(args.seed),
        "--cache-dir",
        args.cache_dir,
        "--sqlite-cache-mb",
        str(args.sqlite_cache_mb),
    ]
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    if args.cold_probe is not None:
        configure(args)
        print(summary_cold_probe(args.cold_probe))
        return 0

    fresh = not is_loaded(args)
    if fresh:
        recreate(args)
        marker_path(args).unlink(missing_ok=True)
    configure(args)
    from django.conf import settings

    print(f"database: {settings.DATABASES['default']['NAME']}", flush=True)
    results: dict = {"args": {k: v for k, v in vars(args).items() if k != "passthrough"}}
    results["machine"] = machine()
    print(json.dumps(results["machine"], ensure_ascii=False), flush=True)
    data = None
    if fresh:
        print(f"loading {args.disputes:,} disputes ...", flush=True)
        results["load"], data = load(args)
        marker_path(args).write_text(json.dumps(stamp(args)))
    else:
        print("reusing the loaded database (re-evaluation below is then the steady state)")
    from pingan.disputes import bulk
    from pingan.disputes.models import OPEN_STATUSES, Dispute, StatCell
    from pingan.disputes.stats import rebuild_stats

    results["open"] = Dispute.objects.filter(status__in=OPEN_STATUSES).count()
    results["cells"] = StatCell.objects.count()
    print(f"open disputes: {results['open']:,}; statistics cells: {results['cells']:,}")

    if not args.skip_evaluation:
        results["busy_before_evaluation"] = wait_quiet(args.wait_quiet)
        print("risk evaluation:", flush=True)
        if data is None:
            data = generate(args.disputes, args.seed, [None] * GRIDS)
        passed = engine_pass(data)
        results["engine"] = passed
        n = passed["disputes"]
        print(
            f"  pure engine, {n:,} disputes, {passed['rules']} rules: {passed['engine_s']:.1f} s "
            f"({n / passed['engine_s']:,.0f}/s); building the Facts: {passed['build_s']:.1f} s",
            flush=True,
        )
        print(f"  colours {passed['colours']}; rules fired {passed['fired']}", flush=True)
        del data
        from pingan.disputes.models import RiskRule

        RiskRule.objects.filter(code=RED_RULE["code"]).delete()  # left by an interrupted run
        scenarios = (
            ("reassess_all (1st, after the load)", None),
            ("reassess_all (2nd, nothing changed)", None),
            ("reassess_all (3rd, red keyword rule added)", "add"),
            ("reassess_all (4th, that rule removed)", "remove"),
        )
        for label, change in scenarios:
            if change == "add":
                RiskRule.objects.create(**RED_RULE)
            elif change == "remove":
                RiskRule.objects.filter(code=RED_RULE["code"]).delete()
            result = bulk.reassess_all(batch=args.batch, now=NOW, rebuild=False)
            results[label] = result
            print(
                f"  {label}: {result['evaluated']:,} open in {result['seconds']:.1f} s "
                f"({result['evaluated'] / max(result['seconds'], 1e-9):,.0f}/s); updated "
                f"{result['updated']:,}, colour changed {result['colour_changed']:,}, "
                f"turned red {result['turned_red']:,}",
                flush=True,
            )
        if not fresh:  # after a load, the load's own rebuild was timed already
            t0 = time.perf_counter()
            rebuild_stats()
            results["rebuild_s"] = time.perf_counter() - t0
            print(f"  rebuild_stats over all disputes: {results['rebuild_s']:.1f} s", flush=True)
        row = per_row_reassess(args.sample)
        results["per_row"] = row
        print(
            f"  services.reassess one by one: {row['disputes']:,} in {row['seconds']:.1f} s "
            f"({row['seconds'] / max(row['disputes'], 1) * 1000:.2f} ms each)",
            flush=True,
        )
    results["busy_before_summary"] = wait_quiet(args.wait_quiet)
    print(f"queries.summary (machine {results['busy_before_summary']:.0%} busy):", flush=True)
    results["summary"] = summary_timings(args)
    results["busy_before_http"] = wait_quiet(args.wait_quiet)
    print(
        f"over HTTP (Django test Client, as the county commander; machine "
        f"{results['busy_before_http']:.0%} busy):",
        flush=True,
    )
    results["http"] = http_timings(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
