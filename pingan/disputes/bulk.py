"""Re-evaluate every open dispute against the current rules, set-wise.

After an administrator tunes the rules, every open dispute needs the new colour. Doing it one
by one (`services.reassess`) costs several queries per dispute; here each batch costs a fixed
handful: the locked batch, its parties, the other disputes sharing a party key within the
repeat window, one batched UPDATE of the changed rows, one plain update of the unchanged ones,
the new timeline events and the statistics delta. The decisions are the same as
`services.reassess` would make for each dispute: same facts, same engine, same events, and a
dispute whose colour a person overrode keeps it.
"""

import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import DateTimeField, F, Func

from pingan.core import clock

from . import push, services, stats
from . import risk as rules_engine
from .assessment import compiled_rules
from .models import OPEN_STATUSES, Dispute, DisputeEvent, EventKind, Party, Risk, RiskRule

RISK_FIELDS = ["risk", "risk_computed", "risk_reasons", "risk_evaluated_at"]
# What the facts, the statistics delta and the update need; read as plain values, because
# building a model instance per row costs more than the whole evaluation.
FACT_FIELDS = tuple(
    dict.fromkeys(
        (
            "pk",
            "code",
            "title",
            "narrative",
            "status",
            "risk",
            "risk_computed",
            "risk_reasons",
            "risk_override",
            "last_progress_at",
            "amount_yuan",
            "relapse_count",
            *stats.STAT_FIELDS,
        )
    )
)
# Keys per IN list: well under SQLite's 32,766 bound variables and PostgreSQL's 65,535.
KEY_CHUNK = 20_000


class Unindexed(Func):
    """A column's value, written on SQLite so the planner cannot use the column's index (a
    unary +, a no-op on any value). The repeat look-up must start from the party-key index;
    given a date range on the disputes, SQLite would rather walk every dispute registered in
    it, which for a batch of old open disputes is most of the table."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def repeat_window_days() -> int:
    """The widest active repeat rule's window, read as `assessment.facts_for` reads it."""
    return max(
        [r.params.get("days", 0) for r in RiskRule.objects.filter(kind="repeat", active=True)]
        or [0]
    )


def _parties(ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """{dispute id: [(key, vulnerability), ...]} for a batch, in one query."""
    found: dict[int, list] = defaultdict(list)
    # No ORDER BY (Party's default ordering): sorting the batch's parties costs 5x the fetch.
    rows = (
        Party.objects.filter(dispute_id__in=ids)
        .order_by()
        .values_list("dispute_id", "key", "vulnerability")
    )
    for dispute_id, key, vulnerability in rows:
        found[dispute_id].append((key, vulnerability))
    return found


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def _micros(moment) -> int:
    return (moment - EPOCH) // ONE_MICROSECOND


def _repeat_gaps(batch: list, keys_of: dict[int, set], window: int) -> dict:
    """{dispute id: gaps in days to other disputes between the same parties} for a batch.

    One query per batch (per KEY_CHUNK keys) fetches every party row that shares a key with the
    batch and belongs to a dispute registered within the window of the batch's span; the
    per-dispute window and "same parties" test are then applied here exactly as
    `assessment.facts_for` applies them (every party, or at least two of them)."""
    if not window:
        return {}
    span = timedelta(days=window)
    keyed = [d for d in batch if keys_of.get(d.pk)]
    if not keyed:
        return {}
    earliest = min(d.reported_at for d in keyed) - span
    latest = max(d.reported_at for d in keyed) + span
    all_keys = sorted(set().union(*(keys_of[d.pk] for d in keyed)))
    by_key: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for start in range(0, len(all_keys), KEY_CHUNK):
        rows = (
            Party.objects.filter(key__in=all_keys[start : start + KEY_CHUNK])
            .annotate(reported=Unindexed(F("dispute__reported_at"), output_field=DateTimeField()))
            .filter(reported__gte=earliest, reported__lte=latest)
            .order_by()
            .values_list("key", "dispute_id", "reported")
        )
        for key, other_id, reported_at in rows:
            by_key[key].append((other_id, _micros(reported_at)))
    # Whole microseconds since the epoch from here on: comparing integers is cheaper than
    # comparing aware datetimes, and exact, so the window's edges fall where they fall in
    # assessment.facts_for.
    window_us = span // ONE_MICROSECOND
    gaps = {}
    for dispute in keyed:
        keys = keys_of[dispute.pk]
        needed = min(2, len(keys))
        shared: dict[int, set] = {}
        when = {}
        mine = _micros(dispute.reported_at)
        for key in keys:
            for other_id, reported in by_key.get(key, ()):
                if other_id == dispute.pk or abs(reported - mine) > window_us:
                    continue
                shared.setdefault(other_id, set()).add(key)
                when[other_id] = reported
        # The same float arithmetic as timedelta.total_seconds() / 86400.
        gaps[dispute.pk] = tuple(
            abs(when[i] - mine) / 10**6 / 86400
            for i, found in shared.items()
            if len(found) >= needed
        )
    return gaps


def _facts(dispute, parties: list, gaps: tuple, now) -> rules_engine.Facts:
    return rules_engine.Facts(
        narrative=f"{dispute.title}\n{dispute.narrative}",
        party_count=len(parties),
        vulnerabilities=frozenset(v for _, v in parties if v),
        repeat_gaps_days=gaps,
        days_without_progress=(now - dispute.last_progress_at).total_seconds() / 86400,
        is_open=dispute.status in OPEN_STATUSES,
        amount_yuan=float(dispute.amount_yuan) if dispute.amount_yuan is not None else None,
        relapse_count=dispute.relapse_count,
    )


def read_rows(queryset, size: int) -> list[SimpleNamespace]:
    """Up to `size` disputes of an ordered queryset as plain rows with the FACT_FIELDS."""
    return [SimpleNamespace(**row) for row in queryset.values(*FACT_FIELDS)[:size]]


def gather_facts(batch: list, window: int, now) -> list[rules_engine.Facts]:
    """The facts of a batch of rows, set-wise: two or three queries for the whole batch."""
    parties = _parties([d.pk for d in batch])
    keys_of = {i: {key for key, _ in rows if key} for i, rows in parties.items()}
    gaps = _repeat_gaps(batch, keys_of, window)
    return [_facts(d, parties.get(d.pk, []), gaps.get(d.pk, ()), now) for d in batch]


def _change_event(dispute, old: str, reasons: list[dict], now) -> DisputeEvent:
    """The RISK_CHANGED event `services.reassess` writes, word for word."""
    label = Risk(dispute.risk).label
    detail = "；".join(r["detail"] for r in reasons) or "未命中任何预警规则"
    return DisputeEvent(
        dispute_id=dispute.pk,
        kind=EventKind.RISK_CHANGED,
        at=now,
        actor=None,
        message=f"风险等级变为{label}：{detail}"[:500],
        data={"from": old, "to": dispute.risk, "reasons": reasons},
        public=False,
    )


def _run_batch(after_pk: int, size: int, rules, window: int, now, totals: Counter) -> int | None:
    """Evaluate the next batch of open disputes (by pk) in one transaction; returns the last pk
    handled, or None when there are no more."""
    with transaction.atomic():
        # Locked, so a service changing one of these waits for us rather than being overwritten.
        batch = read_rows(
            Dispute.objects.select_for_update()
            .filter(status__in=OPEN_STATUSES, pk__gt=after_pk)
            .order_by("pk"),
            size,
        )
        if not batch:
            return None
        changed, unchanged, events, turned_red = [], [], [], []
        before, after = Counter(), Counter()
        for dispute, facts in zip(batch, gather_facts(batch, window, now), strict=True):
            assessment = rules_engine.evaluate(facts, rules)
            reasons = assessment.reasons_as_dicts()
            old = dispute.risk
            new = old if dispute.risk_override else assessment.level
            same = (
                new == old
                and dispute.risk_computed == assessment.level
                and dispute.risk_reasons == reasons
            )
            if same:
                unchanged.append(dispute.pk)
                continue
            if new != old:
                before.update(stats.contributions(dispute))
            dispute.risk_computed = assessment.level
            dispute.risk_reasons = reasons
            dispute.risk_evaluated_at = now
            if new != old:
                dispute.risk = new
                after.update(stats.contributions(dispute))
                events.append(_change_event(dispute, old, reasons, now))
                if new == Risk.RED:
                    turned_red.append(dispute.pk)
            changed.append(dispute)
        _update_risk(changed)
        if unchanged:
            Dispute.objects.filter(pk__in=unchanged).update(risk_evaluated_at=now)
        created = DisputeEvent.objects.bulk_create(events, batch_size=1000)
        # Only the visible colour moves cells; applied in this transaction, so the statistics
        # stay right at every commit even while services run alongside.
        stats.apply_delta(before, after)
        _alert_red(turned_red, created, now)
        totals["evaluated"] += len(batch)
        totals["updated"] += len(changed)
        totals["colour_changed"] += len(events)
        totals["turned_red"] += len(turned_red)
        totals["overridden"] += sum(1 for d in batch if d.risk_override)
        return batch[-1].pk


def _update_risk(rows: list) -> None:
    """One parameterised UPDATE per changed row, sent with executemany: Django's bulk_update
    builds a CASE expression per row and field, which cost ~3 ms a row here. Values go through
    each field's own adapter, so JSON and datetimes are stored exactly as the ORM stores them."""
    if not rows:
        return
    meta = Dispute._meta
    fields = [meta.get_field(name) for name in RISK_FIELDS]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    params = [
        [f.get_db_prep_save(getattr(row, f.name), connection) for f in fields] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _alert_red(dispute_ids: list[int], events: list[DisputeEvent], now) -> None:
    """Disputes turning red alert as one by one: messages to the owner and the station chief
    now (inside the transaction, like every queued message), the live push after commit."""
    if not dispute_ids:
        return
    reds = Dispute.objects.select_related("grid", "org", "owner").in_bulk(dispute_ids)
    for dispute_id in dispute_ids:
        dispute = reds[dispute_id]
        services.red_alert(dispute, now, dispute.risk_reasons)
    for event in events:
        if event.data.get("to") == Risk.RED:
            push.announce(event)


def reassess_all(*, batch: int = 2000, now=None, rebuild: bool = False) -> dict:
    """Re-evaluate every open dispute in batches of `batch`; returns counts and seconds.

    Each batch is its own transaction, keeping the statistics cells in step as it goes. With
    `rebuild` the whole cell table is then recomputed by `stats.rebuild_stats` as well; that
    is off by default because over a million disputes it holds one long transaction (on
    SQLite it blocks every write meanwhile) and the cells are already right."""
    if batch < 1:
        raise ValueError("batch must be positive")
    now = now or clock.now()
    started = time.perf_counter()
    rules = compiled_rules()
    window = repeat_window_days()
    totals = Counter()
    last = 0
    while (last := _run_batch(last, batch, rules, window, now, totals)) is not None:
        totals["batches"] += 1
    result = {
        key: totals[key]
        for key in (
            "evaluated",
            "updated",
            "colour_changed",
            "turned_red",
            "overridden",
            "batches",
        )
    }
    result["seconds"] = time.perf_counter() - started
    if rebuild:
        rebuilt = time.perf_counter()
        result["stat_cells"] = stats.rebuild_stats()
        result["rebuild_seconds"] = time.perf_counter() - rebuilt
    return result
