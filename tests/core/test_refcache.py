"""The version-invalidated per-process cache (pingan/core/refcache.py)."""

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from pingan.core import refcache
from pingan.core.models import RefVersion
from pingan.incidents.models import Category


@pytest.fixture(autouse=True)
def _cold_caches():
    refcache.clear_all()
    yield
    refcache.clear_all()


class FakeVersions:
    """Stands in for the counter table: tests of the cache logic alone need no database."""

    def __init__(self, monkeypatch, **versions):
        self.versions = dict(versions)
        self.reads = 0
        monkeypatch.setattr(refcache, "_read_versions", self.read)

    def read(self):
        self.reads += 1
        return dict(self.versions)


class FakeClock:
    def __init__(self, monkeypatch):
        self.now = 1000.0
        monkeypatch.setattr(refcache, "_monotonic", lambda: self.now)


class CountingLoader:
    def __init__(self, fn=None):
        self.calls = 0
        self.fn = fn

    def __call__(self):
        self.calls += 1
        return self.fn() if self.fn else self.calls


@override_settings(REFCACHE_CHECK_SECONDS=10)
def test_one_poll_per_interval_serves_every_cache(monkeypatch):
    fake = FakeVersions(monkeypatch, a=1, b=1, c=1)
    clock = FakeClock(monkeypatch)
    caches = [refcache.VersionedCache(name, CountingLoader()) for name in "abc"]
    caches[0].get()
    reads_after_first = fake.reads
    for cache in caches:
        cache.get()
    clock.now += 5
    for cache in caches:
        cache.get()
    # Cold caches re-read the counters once before loading (see the next test); warm ones share
    # the process's one poll.
    assert fake.reads == reads_after_first + 2
    before = fake.reads
    clock.now += 6
    for cache in caches:
        assert cache.get() == 1
    assert fake.reads == before + 1


@override_settings(REFCACHE_CHECK_SECONDS=10)
def test_a_load_is_labelled_with_counters_the_loading_thread_read(monkeypatch):
    # Counters polled by another thread may be newer than what this thread's connection sees;
    # a cold cache therefore reads them itself before loading.
    fake = FakeVersions(monkeypatch, a=1, b=1)
    FakeClock(monkeypatch)
    first = refcache.VersionedCache("a", CountingLoader())
    second = refcache.VersionedCache("b", CountingLoader())
    first.get()
    assert fake.reads == 1
    second.get()
    assert fake.reads == 2


@override_settings(REFCACHE_CHECK_SECONDS=10)
def test_reloads_only_when_its_own_counter_moves(monkeypatch):
    fake = FakeVersions(monkeypatch, a=1, b=1)
    clock = FakeClock(monkeypatch)
    loader = CountingLoader()
    cache = refcache.VersionedCache(("a", "b"), loader)
    assert cache.get() == 1
    fake.versions["other"] = 7
    clock.now += 11
    assert cache.get() == 1
    fake.versions["b"] = 2
    assert cache.get() == 1  # within the interval: not polled yet
    clock.now += 11
    assert cache.get() == 2
    assert loader.calls == 2


@override_settings(REFCACHE_CHECK_SECONDS=10)
def test_invalidate_and_refresh_poll_before_the_interval(monkeypatch):
    fake = FakeVersions(monkeypatch, a=1)
    FakeClock(monkeypatch)
    cache = refcache.VersionedCache("a", CountingLoader())
    assert cache.get() == 1
    fake.versions["a"] = 2
    assert cache.get() == 1
    refcache.invalidate()
    assert cache.get() == 2
    fake.versions["a"] = 3
    assert cache.refresh() == 3


@override_settings(REFCACHE_CHECK_SECONDS=0)
def test_a_change_during_a_load_is_caught_by_the_next_check(monkeypatch):
    fake = FakeVersions(monkeypatch, a=1)
    data = {"value": "old"}

    def load():
        value = data["value"]
        # The change commits while the load is running, after it read the data.
        data["value"] = "new"
        fake.versions["a"] = 2
        return value

    cache = refcache.VersionedCache("a", load)
    assert cache.get() == "old"
    assert cache.get() == "new"


@override_settings(REFCACHE_CHECK_SECONDS=0)
def test_a_reload_does_not_make_other_threads_wait(monkeypatch):
    fake = FakeVersions(monkeypatch, a=1)
    loading, release = threading.Event(), threading.Event()

    def load():
        if fake.versions["a"] == 2:
            loading.set()
            assert release.wait(10)
            return "new"
        return "old"

    cache = refcache.VersionedCache("a", load)
    assert cache.get() == "old"
    fake.versions["a"] = 2
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=cache.get()))
    thread.start()
    try:
        assert loading.wait(10)
        # The reload is blocked; this thread still gets the previous value at once.
        assert cache.get() == "old"
    finally:
        release.set()
        thread.join(10)
    assert result["value"] == "new"
    assert cache.get() == "new"


@override_settings(REFCACHE_CHECK_SECONDS=0)
def test_the_first_load_is_shared_by_threads_arriving_together(monkeypatch):
    FakeVersions(monkeypatch, a=1)
    started, release = threading.Event(), threading.Event()

    def load():
        started.set()
        assert release.wait(10)
        return object()

    loader = CountingLoader(load)
    cache = refcache.VersionedCache("a", loader)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get())) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert started.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert len(results) == 4
    assert len({id(r) for r in results}) == 1
    assert loader.calls == 1


@override_settings(REFCACHE_CHECK_SECONDS=0)
def test_a_failed_load_is_retried(monkeypatch):
    FakeVersions(monkeypatch, a=1)
    attempts = []

    def load():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("database gone")
        return "ok"

    cache = refcache.VersionedCache("a", load)
    with pytest.raises(RuntimeError):
        cache.get()
    assert cache.get() == "ok"


# --- with the database ---------------------------------------------------------------------------


def _names():
    return dict(Category.objects.values_list("code", "name"))


@pytest.mark.django_db
def test_bump_creates_a_counter_at_a_random_start_then_increments():
    refcache.bump("test-new")
    start = RefVersion.objects.get(name="test-new").version
    # A restored or flushed database must not reuse small numbers a process may still hold.
    assert start > 1
    refcache.bump("test-new", "test-other")
    assert RefVersion.objects.get(name="test-new").version == start + 1
    assert RefVersion.objects.filter(name="test-other").exists()


@pytest.mark.django_db
def test_the_counters_are_read_with_one_plain_query():
    refcache.bump("a-set", "b-set")
    with CaptureQueriesContext(connection) as ctx:
        versions = refcache._read_versions()
    assert len(ctx.captured_queries) == 1
    assert ctx.captured_queries[0]["sql"].startswith("SELECT name, version FROM")
    assert {"a-set", "b-set"} <= set(versions)


@pytest.mark.django_db
def test_own_uncommitted_change_is_seen_but_never_shared():
    cache = refcache.VersionedCache("test-categories", _names)
    before = cache.get()
    try:
        with transaction.atomic():
            Category.objects.filter(code="010000").update(name="改名")
            refcache.bump("test-categories")
            # This thread sees its own change at once...
            assert cache.get()["010000"] == "改名"
            # ...but the shared value (what other threads get) never holds uncommitted data.
            assert cache._entry is None or cache._entry[1]["010000"] == before["010000"]
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert cache.get()["010000"] == before["010000"]


@pytest.mark.django_db
def test_a_rolled_back_savepoint_is_forgotten_inside_the_outer_transaction():
    cache = refcache.VersionedCache("test-categories", _names)
    with transaction.atomic():
        Category.objects.filter(code="010000").update(name="外层")
        refcache.bump("test-categories")
        assert cache.get()["010000"] == "外层"
        try:
            with transaction.atomic():
                Category.objects.filter(code="010000").update(name="内层")
                refcache.bump("test-categories")
                assert cache.get()["010000"] == "内层"
                raise RuntimeError("roll back the savepoint")
        except RuntimeError:
            pass
        assert cache.get()["010000"] == "外层"
        # The next bump reuses the undone counter value: it must not bring back "内层".
        Category.objects.filter(code="010100").update(name="再改")
        refcache.bump("test-categories")
        names = cache.get()
        assert (names["010000"], names["010100"]) == ("外层", "再改")
