"""Per-service roles as a service's admin sees them: the token's `roles` claim opens this service's admin to
a staff person who is not a superuser, and gives the Django permissions of that role, and no more."""

import pytest
from django.contrib.auth import get_user_model
from service_kit.roles import ROLES, role_permissions
from service_kit.testing import Identity

from .test_admin_replay import dead_letter
from .test_signin import ADMIN, browser

pytestmark = pytest.mark.django_db

DEAD_LETTERS = f"{ADMIN}service_kit/deadletter/"
REPLAY_ACTION = '<option value="replay">'


def staff_browser(roles=None, **claims):
    extra = {} if roles is None else {"roles": roles}
    return browser(Identity(is_staff=True), is_superuser=False, **extra, **claims)


@pytest.mark.parametrize(
    "roles",
    [None, {}, {"orders": "operator"}, {"kit": "owner"}, ["kit"]],
    ids=["no-claim", "no-role", "another-services-role", "unknown-role", "malformed"],
)
def test_staff_without_a_role_here_is_refused_and_leaves_no_local_row(roles):
    staff = Identity(is_staff=True)
    extra = {} if roles is None else {"roles": roles}

    response = browser(staff, is_superuser=False, **extra).get(ADMIN)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{ADMIN}login/")
    assert not get_user_model().objects.filter(username=staff.id).exists()


def test_a_role_here_needs_staff_too():
    response = browser(Identity(is_staff=False), roles={"kit": "operator"}).get(ADMIN)

    assert response.status_code == 302


@pytest.fixture
def a_dead_letter(kit_broker):
    return dead_letter()


def test_a_viewer_sees_the_admin_and_its_rows_but_no_action_that_changes_them(a_dead_letter):
    client = staff_browser({"kit": "viewer"})

    index = client.get(ADMIN)
    dead_letters = client.get(DEAD_LETTERS)

    assert index.status_code == 200
    assert "Dead letters" in index.content.decode()
    assert dead_letters.status_code == 200
    assert str(a_dead_letter.message_id) in dead_letters.content.decode()
    assert REPLAY_ACTION not in dead_letters.content.decode()


def test_an_operator_may_run_the_actions_that_act_through_the_code(a_dead_letter):
    response = staff_browser({"kit": "operator"}).get(DEAD_LETTERS)

    assert response.status_code == 200
    assert REPLAY_ACTION in response.content.decode()


def test_the_role_is_read_from_each_token_so_taking_it_away_closes_the_admin():
    staff = Identity(is_staff=True)
    assert browser(staff, is_superuser=False, roles={"kit": "operator"}).get(ADMIN).status_code == 200

    response = browser(staff, is_superuser=False, roles={}).get(ADMIN)

    assert response.status_code == 302
    local = get_user_model().objects.get(username=staff.id)
    assert not local.user_permissions.exists() and not local.groups.exists()


def test_a_role_gives_permissions_on_the_services_own_models_only():
    viewer, operator = role_permissions("viewer"), role_permissions("operator")

    assert "service_kit.view_deadletter" in viewer
    assert "service_kit.change_deadletter" not in viewer
    assert {"service_kit.change_deadletter", "service_kit.delete_outboxmessage"} <= operator
    assert viewer < operator
    assert not any(permission.startswith(("auth.", "admin.", "sessions.", "contenttypes.")) for permission in operator)
    assert set(ROLES) == {"viewer", "operator"}


def test_a_superuser_needs_no_role(a_dead_letter):
    response = browser(Identity(is_staff=True), is_superuser=True).get(DEAD_LETTERS)

    assert response.status_code == 200
    assert REPLAY_ACTION in response.content.decode()
