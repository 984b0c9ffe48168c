"""Incident categories in memory (pingan/incidents/refdata.py)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from pingan.accounts.models import User
from pingan.core import refcache
from pingan.incidents import refdata
from pingan.incidents.categories import DEFAULT_CATEGORIES, ensure_default_categories
from pingan.incidents.models import Category
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cold_caches")]


def category_uncached(code: str) -> refdata.CategoryRef | None:
    found = Category.objects.filter(code=str(code), active=True).first()
    if found is None:
        return None
    return refdata.CategoryRef(found.pk, found.code, found.name, found.default_priority)


def test_every_cached_answer_equals_the_database(world):
    Category.objects.filter(code="020700").update(active=False)
    refcache.bump(refdata.CATEGORIES)
    codes = [code for code, _, _ in DEFAULT_CATEGORIES] + ["123456", "", "01"]
    for code in codes:
        assert refdata.category(code) == category_uncached(code)
    assert refdata.category("020700") is None  # inactive
    assert refdata.category("010101")[1:] == ("010101", "入室盗窃", 2)


def test_orm_saves_and_deletes_are_seen_on_the_next_call(world):
    assert refdata.category("020700").default_priority == 4
    category = Category.objects.get(code="020700")
    category.default_priority = 2
    category.save()
    assert refdata.category("020700").default_priority == 2
    category.active = False
    category.save(update_fields=["active"])
    assert refdata.category("020700") is None
    new = Category.objects.create(code="020900", name="非法集会", level=2, default_priority=2)
    assert refdata.category("020900").id == new.pk
    new.delete()
    assert refdata.category("020900") is None


def test_ensure_default_categories_is_seen(world):
    Category.objects.filter(code="999900").delete()
    assert refdata.category("999900") is None
    assert ensure_default_categories(Category) == 1
    assert refdata.category("999900").name == "其他警情"


def test_admin_edits_are_seen_on_the_next_call(world):
    User.objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(User.objects.get(username="root"))
    category = Category.objects.get(code="070500")
    assert refdata.category("070500").name == "开锁求助"
    response = client.post(
        f"/admin/incidents/category/{category.pk}/change/",
        {
            "code": "070500",
            "name": "开锁服务",
            "parent": category.parent_id,
            "level": category.level,
            "default_priority": 3,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert refdata.category("070500")[2:] == ("开锁服务", 3)


def test_a_bulk_change_is_seen_once_bumped(world):
    assert refdata.category("040400").default_priority == 4
    Category.objects.filter(code="040400").update(default_priority=1)
    # update() sends no signal: until the writer bumps, the cache keeps the old row.
    assert refdata.category("040400").default_priority == 4
    refcache.bump(refdata.CATEGORIES)
    assert refdata.category("040400").default_priority == 1


@override_settings(REFCACHE_CHECK_SECONDS=60)
def test_a_warm_lookup_runs_no_query_until_the_interval_passes(
    world, monkeypatch, django_assert_num_queries
):
    now = [1000.0]
    monkeypatch.setattr(refcache, "_monotonic", lambda: now[0])
    refdata.category("010101")
    with django_assert_num_queries(0):
        assert refdata.category("010101").name == "入室盗窃"
        assert refdata.category("999999") is None  # an unknown code does not force a check
    now[0] += 61
    with django_assert_num_queries(1):
        assert refdata.category("010101").name == "入室盗窃"


@pytest.mark.django_db(transaction=True)
@override_settings(REFCACHE_CHECK_SECONDS=60)
def test_another_process_change_is_seen_after_the_interval(world, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(refcache, "_monotonic", lambda: now[0])
    assert refdata.category("010101").default_priority == 2
    # As another process would: the row and its counter change, this process is not told.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE incidents_category SET default_priority = 1 WHERE code = '010101'")
        cursor.execute("UPDATE core_refversion SET version = version + 1 WHERE name = 'categories'")
        if not cursor.rowcount:  # nothing bumped it yet (the data migration sends no signal)
            cursor.execute("INSERT INTO core_refversion VALUES ('categories', 4242)")
    assert refdata.category("010101").default_priority == 2
    now[0] += 61
    assert refdata.category("010101").default_priority == 1
