"""Jurisdiction as a path prefix: grants and denials for every kind of account."""

import pytest
from django.contrib.auth.models import AnonymousUser

from pingan.accounts.models import User
from pingan.orgs.models import OrgUnit
from pingan.orgs.scoping import in_scope, scope_path, within_scope

pytestmark = pytest.mark.django_db


def codes(queryset) -> set[str]:
    return set(queryset.values_list("code", flat=True))


def test_officer_sees_their_station_not_the_neighbour(world):
    visible = within_scope(OrgUnit.objects.all(), world.officer_a, "path")
    assert codes(visible) == {"S-A", "O-A1"}
    assert in_scope(world.officer_a, world.office_a.path)
    assert not in_scope(world.officer_a, world.office_b.path)


def test_commander_sees_their_own_tree(world):
    assert codes(within_scope(OrgUnit.objects.all(), world.commander, "path")) == {
        "360827",
        "S-A",
        "O-A1",
        "S-B",
        "O-B1",
    }
    assert scope_path(world.chief_a) == world.office_a.parent.path


def test_superuser_sees_everything(world):
    root = User.objects.create_superuser("root", password="x")  # noqa: S106 - test account
    assert scope_path(root) == "/"
    assert within_scope(OrgUnit.objects.all(), root, "path").count() == OrgUnit.objects.count()


@pytest.mark.parametrize("who", ["citizen", "volunteer", "anonymous"])
def test_residents_and_the_anonymous_have_no_jurisdiction(world, who):
    user = AnonymousUser() if who == "anonymous" else getattr(world, who)
    assert scope_path(user) is None
    assert not in_scope(user, world.office_a.path)
    assert not within_scope(OrgUnit.objects.all(), user, "path").exists()


def test_every_model_placed_in_the_org_tree_narrows_through_one_method(world):
    """`Model.objects.in_jurisdiction(user)` on units (org_path) and on records that lie where
    their parent does (a sign-up where its task is, an order where its shop is)."""
    from pingan.disputes.models import Dispute
    from pingan.incidents.models import Incident, Unit
    from pingan.points.models import PointEntry, RedemptionOrder, Shop
    from pingan.volunteers.models import Signup, Task, Team

    for model in (Incident, Unit, Dispute, Team, Task, Signup, Shop, RedemptionOrder, PointEntry):
        assert hasattr(model.objects, "in_jurisdiction"), model.__name__
    assert Signup.org_path_lookup == "task__org_path"
    assert RedemptionOrder.org_path_lookup == "shop__org_path"

    units = Unit.objects.all()
    assert set(units.in_jurisdiction(world.officer_a)) == {world.unit_officer_a, world.unit_aux_a}
    assert set(units.in_jurisdiction(world.officer_b)) == {world.unit_officer_b}
    assert set(units.in_jurisdiction(world.commander)) == set(units)
    assert not units.in_jurisdiction(world.citizen).exists()
    assert not units.in_jurisdiction(AnonymousUser()).exists()
