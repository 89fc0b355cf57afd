"""Who may call the API: bearer tokens and browser sessions of staff users."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from tests import factories
from tests.api.conftest import ApiClient, assert_error
from waypoint.api.models import ApiToken
from waypoint.api.services import api_token_create, api_token_revoke, key_hash
from waypoint.people.models import Perm

pytestmark = pytest.mark.django_db


def _bearer(key: str) -> ApiClient:
    return ApiClient(Client(headers={"Authorization": f"Bearer {key}"}))


def test_a_valid_token_authenticates_and_records_when_it_was_used() -> None:
    user = factories.staff()
    token, key = api_token_create(user=user, name="reporting")
    assert _bearer(key).get("/learners").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_key_is_stored_only_as_a_hash_with_a_short_prefix_for_display() -> None:
    token, key = api_token_create(user=factories.staff(), name="reporting")
    assert token.key_hash == key_hash(key)
    assert key not in token.key_hash
    assert len(token.prefix) == 8
    assert key[3:11] == token.prefix
    assert not ApiToken.objects.filter(key_hash=key).exists()


def test_an_unknown_token_is_answered_401_not_authenticated() -> None:
    assert_error(_bearer("wp_not-a-real-key").get("/learners"), 401, "not_authenticated")


def test_a_revoked_token_is_answered_401() -> None:
    token, key = api_token_create(user=factories.staff(), name="old")
    api_token_revoke(token=token)
    assert_error(_bearer(key).get("/learners"), 401, "not_authenticated")


def test_a_request_without_credentials_is_answered_401() -> None:
    assert_error(ApiClient(Client()).get("/learners"), 401, "not_authenticated")
    assert_error(ApiClient(Client()).post("/learners", {"first_name": "A"}), 401, "not_authenticated")


def test_a_token_of_a_user_without_a_staff_profile_does_not_authenticate() -> None:
    user = factories.staff()
    _token, key = api_token_create(user=user, name="x")
    user.staff.delete()  # type: ignore[attr-defined]
    assert_error(_bearer(key).get("/learners"), 401, "not_authenticated")


def test_a_token_of_a_deactivated_user_does_not_authenticate() -> None:
    user = factories.staff()
    key = factories.api_token(user)
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert_error(_bearer(key).get("/learners"), 401, "not_authenticated")


def test_a_token_cannot_be_issued_to_a_user_without_a_staff_profile() -> None:
    user = get_user_model().objects.create_user(username="outsider", password="x")
    with pytest.raises(Exception, match="staff profile"):
        api_token_create(user=user, name="x")


def test_the_api_token_command_prints_a_key_that_works(capsys: pytest.CaptureFixture[str]) -> None:
    factories.staff(username="ada")
    call_command("api_token", "ada", "--name", "Power BI")
    key = capsys.readouterr().out.strip()
    assert ApiToken.objects.get(name="Power BI").prefix == key[3:11]
    assert _bearer(key).get("/learners").status_code == 200


def test_a_signed_in_staff_user_may_read_with_the_session() -> None:
    client = Client()
    client.force_login(factories.staff())
    assert ApiClient(client).get("/learners").status_code == 200


def test_a_session_write_without_the_csrf_token_is_refused() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(factories.staff([Perm.SUPERVISOR]))
    assert_error(ApiClient(client).post("/groups", {"name": "Leeds"}), 403, "csrf_failed")


def test_a_session_write_with_the_csrf_token_goes_through() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(factories.staff([Perm.SUPERVISOR]))
    client.get("/api/v1/docs")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/groups", data='{"name": "Leeds"}', content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201, response.content


def test_a_token_write_needs_no_csrf_token() -> None:
    client = Client(
        enforce_csrf_checks=True,
        headers={"Authorization": f"Bearer {factories.api_token(factories.staff([Perm.SUPERVISOR]))}"},
    )
    assert ApiClient(client).post("/groups", {"name": "Leeds"}).status_code == 201


def test_a_signed_in_user_without_a_staff_profile_is_answered_401() -> None:
    client = Client()
    client.force_login(get_user_model().objects.create_user(username="learner-login", password="x"))
    assert_error(ApiClient(client).get("/learners"), 401, "not_authenticated")
