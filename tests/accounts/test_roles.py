"""The role vocabulary: every predicate against every kind of account, grants and denials."""

import pytest
from django.contrib.auth.models import AnonymousUser

from pingan.accounts import roles
from pingan.accounts.models import Role, User

# predicate → the roles it grants (a superuser is listed apart).
GRANTS = {
    roles.is_resident: {Role.CITIZEN, Role.VOLUNTEER},
    roles.is_staff_viewer: {Role.COMMANDER, Role.OFFICER, Role.AUXILIARY, Role.GRID_WORKER},
    roles.is_manager: {Role.COMMANDER, Role.OFFICER},
    roles.can_reveal: {Role.COMMANDER, Role.OFFICER},
    roles.is_clerk: {Role.CLERK},
}
SUPERUSER_GRANTED = {roles.is_staff_viewer, roles.is_manager, roles.can_reveal}


@pytest.mark.parametrize("predicate", list(GRANTS), ids=lambda p: p.__name__)
@pytest.mark.parametrize("role", list(Role))
def test_each_role(predicate, role):
    user = User(username=f"u-{role}", role=role)
    assert predicate(user) is (role in GRANTS[predicate])


@pytest.mark.parametrize("predicate", list(GRANTS), ids=lambda p: p.__name__)
def test_superuser_and_anonymous(predicate):
    root = User(username="root", role=Role.CITIZEN, is_superuser=True)
    assert predicate(root) is (predicate in SUPERUSER_GRANTED)
    assert predicate(AnonymousUser()) is False
