"""Benchmark 1,000 concurrent redemptions over HTTP for an item with 100 in stock.

    python -m bench.bench_redemption                       # PostgreSQL h_bench, pingan serve
    python -m bench.bench_redemption --workers 1,2 --profiles burst,conns:16
    python -m bench.bench_redemption --db sqlite
    python -m bench.bench_redemption --server asgi --workers 1    # the former serving

What it does:

1. The same world as ``bench_signup_rush`` (``bench._rush``: a station, its 爱心超市, residents
   who are active volunteers, each credited 1,000 points once through ``ledger.post``).
2. For each ``--workers`` count, starts the real server as ``pingan serve`` runs HTTP
   (gunicorn WSGI workers, pingan's arguments and environment, the timing wrapper around
   ``pingan.wsgi.application``; no socket server: a redemption pushes nothing; or, with
   ``--server asgi``, the former uvicorn server with its admission gate: ``bench._rush``) and
   warms it up: ``--warmup`` other users redeem an item of their own.
3. For each ``--profiles`` shape, the commander adds a new item to the shop (``save_item``:
   ``--price`` points, ``--stock`` in stock, no per-person limit), users whose balance is
   below the price are topped up (``ledger.post``, ADJUST), every user gets a fresh bearer
   token, and each sends ``POST /api/points/orders {"item": id, "quantity": 1}`` once
   (``burst`` / ``window:S`` / ``conns:N``, as in ``bench_signup_rush``).
4. Checks: exactly ``--stock`` orders for the item, one per user at most, each for the price;
   stock 0; every other answer a 409 ``out_of_stock``; every user's balance (the sum of their
   ledger, ``ledger.balance``) is ≥ 0 and equals the balance before minus the price if and
   only if they got an order; exactly one REDEEM entry of −price per order.
5. Prints the same measurements as ``bench_signup_rush``.

Target (issue #4): no balance below zero and no stock oversold, under any concurrency (no
latency target is set for redemptions).
"""

from __future__ import annotations

import argparse
import json
import sys

from bench import _rush


def balances(user_ids: list[int]) -> dict[int, int]:
    from django.db.models import Sum

    from pingan.points.models import PointEntry

    rows = (
        PointEntry.objects.filter(user_id__in=user_ids)
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    )
    found = dict(rows)
    return {uid: int(found.get(uid) or 0) for uid in user_ids}


def top_up(world: _rush.World, users: list, at_least: int, label: str) -> int:
    from pingan.points import ledger
    from pingan.points.models import EntryKind

    current = balances([u.pk for u in users])
    low = [u for u in users if current[u.pk] < at_least]
    for user in low:
        ledger.post(
            user,
            _rush.INITIAL_POINTS,
            EntryKind.ADJUST,
            "基准测试补充积分",
            source_type="bench",
            source_ref=label,
            dedupe_key=f"bench:topup:{label}:{user.pk}",
            actor=world.commander,
        )
    return len(low)


def verify(item_id: int, users: list, price: int, stock: int, before: dict, samples) -> list:
    from pingan.points import ledger
    from pingan.points.models import EntryKind, PointEntry, RedemptionOrder, RewardItem

    item = RewardItem.objects.get(pk=item_id)
    orders = list(RedemptionOrder.objects.filter(item=item).values("code", "user_id", "points"))
    by_user = {o["user_id"] for o in orders}
    n = len(users)
    created = [s for s in samples if s.status in (200, 201)]
    refused = [s for s in samples if s.status == 409 and _rush.error_code(s) == "out_of_stock"]
    wrong_balance, negative = [], []
    for user in users:
        now = ledger.balance(user)
        want = before[user.pk] - (price if user.pk in by_user else 0)
        if now != want:
            wrong_balance.append(user.pk)
        if now < 0:
            negative.append(user.pk)
    codes = [o["code"] for o in orders]
    entries = list(
        PointEntry.objects.filter(kind=EntryKind.REDEEM, source_ref__in=codes).values_list(
            "source_ref", "amount"
        )
    )
    return [
        ("orders == stock", len(orders) == stock, f"{len(orders)} orders, stock was {stock}"),
        ("answered 2xx == stock", len(created) == stock, f"{len(created)} created"),
        (
            "refused 409 out_of_stock == n - stock",
            len(refused) == n - stock,
            f"{len(refused)} out_of_stock; all answers: "
            + json.dumps(_outcomes(samples), ensure_ascii=False),
        ),
        ("stock left == 0", item.stock == 0, f"stock {item.stock}"),
        ("one order per user", len(by_user) == len(orders), f"{len(by_user)} users"),
        (
            "every order costs the price",
            all(o["points"] == price for o in orders),
            f"price {price}",
        ),
        (
            "one REDEEM entry of -price per order",
            sorted(entries) == sorted((c, -price) for c in codes),
            f"{len(entries)} entries",
        ),
        (
            "balance (sum of ledger) == before - price iff ordered",
            not wrong_balance,
            f"{len(wrong_balance)} wrong",
        ),
        ("no balance below zero", not negative, f"{len(negative)} negative"),
    ]


def _outcomes(samples) -> dict:
    out: dict[str, int] = {}
    for s in samples:
        key = f"{s.status} {_rush.error_code(s)}".strip()
        out[key] = out.get(key, 0) + 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _rush.add_common_arguments(parser, users=1000, profiles="burst,conns:16")
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--price", type=int, default=50)
    args = parser.parse_args(argv)
    _rush.raise_file_limit()
    world, _ = _rush.prepare(args)
    counter = {"n": 0}

    def new_run(users: list, warm: bool) -> _rush.Run:
        from pingan.points import services as points

        counter["n"] += 1
        label = f"{'warm' if warm else 'run'}-{_rush.now_local():%Y%m%d%H%M%S}-{counter['n']}"
        stock = max(1, len(users) // 10) if warm else args.stock
        item = points.save_item(
            world.commander,
            world.shop,
            name=f"爱心大米 5kg（{label}）",
            description="基准测试",
            points_price=args.price,
            stock=stock,
        )
        top_up(world, users, args.price, label)
        before = balances([u.pk for u in users])
        body = json.dumps({"item": item.pk, "quantity": 1}).encode()
        return _rush.Run(
            label=f"item {item.pk}",
            request_for=lambda i: ("POST", "/api/points/orders", body),
            verify=lambda samples: verify(item.pk, users, args.price, stock, before, samples),
        )

    print(f"machine: {_rush.machine()}; code: {_rush.code_version()}")
    results = _rush.drive(args, world, new_run, "redemption")
    return 0 if results and all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
