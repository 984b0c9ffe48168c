"""Benchmark the sign-up rush over HTTP: 2,000 volunteers pressing 报名 at once for 20 slots.

    python -m bench.bench_signup_rush                      # PostgreSQL h_bench, pingan serve
    python -m bench.bench_signup_rush --workers 1,2 --profiles burst,window:5,conns:16
    python -m bench.bench_signup_rush --db sqlite
    python -m bench.bench_signup_rush --server asgi --workers 2   # the former serving

What it does:

1. Prepares the database (PostgreSQL ``--pg-db``, default ``h_bench``, dropped and created; or
   a SQLite file under ``--cache-dir``) and builds, through the services, one station with an
   officer, a team that needs no approval and ``--users`` + ``--warmup`` residents who each
   saved a volunteer profile and joined the team (so all are active members); reused by
   later runs (``--reload`` rebuilds). See ``bench._rush``.
2. For each ``--workers`` count, starts the real server as ``pingan serve`` runs HTTP
   (gunicorn WSGI workers with ``pingan.serving.gunicorn_argv`` and the HTTP workers'
   environment, default one process per core × 4 threads, serving ``pingan.wsgi.application``
   in a timing wrapper; the socket server is not needed: nothing here pushes; or, with
   ``--server asgi``, the former uvicorn server with its admission gate: ``bench._rush``) and
   warms it up: ``--warmup`` other volunteers sign up for a task of their own over 8
   connections.
3. For each ``--profiles`` shape, the officer posts a new task (``post_task``: a night patrol
   tomorrow, ``--slots`` slots, offered to the team), every user gets a fresh bearer token
   (``issue_token``), and each user sends ``POST /api/volunteers/tasks/{code}/signup`` once:
   ``burst`` (all at once on pre-opened connections), ``window:S`` (arrivals spread over S
   seconds, each on its own new connection) or ``conns:N`` (N requests in flight at a time).
4. Checks the outcome in the database and against the answers: exactly ``--slots`` accepted,
   the rest waiting, ``task.taken == slots``, one sign-up per user, the waiting positions the
   answers gave are 1..n-slots and equal each sign-up's rank in id order, and every accepted
   id is below every waiting id (the slots went to the first through the lock).
5. Prints client latency (p50/p90/p95/p99/max, from each request's send; for ``window``
   from its arrival), throughput, the server-side split (queued before Django — for a gunicorn
   thread, or to the app and at the ASGI admission gate — / in Django — the server-side time
   per request — / after), SQL per request (count,
   time, the statement taking the task's row lock — on PostgreSQL the whole one-statement claim,
   lock wait included —, connecting, COMMIT, statements that raised even if handled), CPU
   by party and, on PostgreSQL, what the backends were waiting for (``pg_stat_activity``
   sampled every 50 ms).

Target (issue #4): exactly 20 accepted, p99 ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import sys

from bench import _rush


def new_task(world: _rush.World, slots: int, label: str):
    from pingan.volunteers import services as volunteers

    starts, ends = _rush.future_window()
    return volunteers.post_task(
        world.officer,
        kind="night_patrol",
        title=f"夜间巡逻（{label}）",
        description="基准测试：报名高峰",
        starts_at=starts,
        ends_at=ends,
        meeting_address="城关镇东门广场",
        lng=114.30,
        lat=26.30,
        slots=slots,
        team_codes=[world.team.code],
    )


def verify(task_code: str, users: list, slots: int, samples: list) -> list[tuple]:
    from pingan.volunteers.models import Signup, SignupStatus, Task

    task = Task.objects.get(code=task_code)
    rows = list(Signup.objects.filter(task=task).values_list("id", "user_id", "status"))
    accepted = sorted(r[0] for r in rows if r[2] == SignupStatus.ACCEPTED)
    waiting = sorted((r[0], r[1]) for r in rows if r[2] == SignupStatus.WAITING)
    n = len(users)
    want_waiting = max(n - slots, 0)
    rank = {user_id: i + 1 for i, (_, user_id) in enumerate(waiting)}
    status_of = {user_id: status for _, user_id, status in rows}
    created = [s for s in samples if s.status == 201]
    positions = sorted(s.body.get("position") for s in created if s.body.get("status") == "waiting")
    mismatched = [
        s
        for s in created
        if s.body.get("status") != status_of.get(users[s.user].pk)
        or (
            s.body.get("status") == "waiting"
            and s.body.get("position") != rank.get(users[s.user].pk)
        )
        or (s.body.get("status") == "accepted" and s.body.get("position") is not None)
    ]
    return [
        ("answered 201", len(created) == n, f"{len(created)} of {n}"),
        ("accepted == slots", len(accepted) == slots, f"{len(accepted)} accepted, {slots} slots"),
        ("waiting == n - slots", len(waiting) == want_waiting, f"{len(waiting)} waiting"),
        ("task.taken == slots", task.taken == slots, f"taken {task.taken}"),
        (
            "one sign-up per user",
            len(rows) == len({r[1] for r in rows}) == n,
            f"{len(rows)} rows, {len({r[1] for r in rows})} users",
        ),
        (
            "positions answered are 1..n-slots",
            positions == list(range(1, want_waiting + 1)),
            f"{len(positions)} positions, min {positions[0] if positions else '-'}, "
            f"max {positions[-1] if positions else '-'}",
        ),
        (
            "answers match the database (status; position == rank in id order)",
            not mismatched,
            f"{len(mismatched)} mismatches",
        ),
        (
            "every accepted id < every waiting id",
            not accepted or not waiting or accepted[-1] < waiting[0][0],
            f"last accepted id {accepted[-1] if accepted else '-'}, first waiting id "
            f"{waiting[0][0] if waiting else '-'}",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _rush.add_common_arguments(parser, users=2000, profiles="burst,window:5,conns:16")
    parser.add_argument("--slots", type=int, default=20)
    args = parser.parse_args(argv)
    _rush.raise_file_limit()
    world, _ = _rush.prepare(args)
    counter = {"n": 0}

    def new_run(users: list, warm: bool) -> _rush.Run:
        counter["n"] += 1
        label = f"warm-up {counter['n']}" if warm else f"run {counter['n']}"
        task = new_task(world, args.slots, label)
        path = f"/api/volunteers/tasks/{task.code}/signup"
        return _rush.Run(
            label=task.code,
            request_for=lambda i: ("POST", path, b""),
            verify=lambda samples: verify(task.code, users, args.slots, samples),
        )

    print(f"machine: {_rush.machine()}; code: {_rush.code_version()}")
    results = _rush.drive(args, world, new_run, "signup_rush")
    return 0 if results and all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
