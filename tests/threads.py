"""Real-thread races for the PostgreSQL concurrency tests (fixture `postgres_only` in conftest):
each thread has its own connection."""

import threading

from django.db import connection


def race(*calls, start_timeout: float = 30, join_timeout: float = 120):
    """Run the calls at the same moment, one thread each; (results, errors) by position."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = [None] * len(calls)

    def worker(i, fn):
        try:
            barrier.wait(timeout=start_timeout)
            results[i] = fn()
        except Exception as exc:  # collected and checked in the test thread
            errors[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results, errors
