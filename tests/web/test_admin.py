"""The Django admin for reference data: each registered model's pages render."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from tests import factories
from waypoint.people.models import Perm, StaffProfile

pytestmark = pytest.mark.django_db


def test_every_waypoint_model_in_the_admin_lists_and_opens(client: Client) -> None:
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(superuser)
    component = factories.component()
    factories.manager()
    StaffProfile.objects.create(user=superuser)
    for model, model_admin in admin.site._registry.items():
        if not model.__module__.startswith("waypoint."):
            continue
        meta = model._meta
        listing = client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
        assert listing.status_code == 200, meta.label
        if model_admin.has_add_permission(listing.wsgi_request):
            assert client.get(f"/admin/{meta.app_label}/{meta.model_name}/add/").status_code == 200, meta.label
    assert client.get(f"/admin/plans/component/{component.pk}/change/").status_code == 200


def test_staff_permissions_are_ticked_as_checkboxes(client: Client) -> None:
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(superuser)
    staff = factories.staff([Perm.ADM_EDIT])
    profile = StaffProfile.objects.get(user=staff)
    url = f"/admin/people/staffprofile/{profile.pk}/change/"
    html = client.get(url).content.decode()
    assert 'type="checkbox" name="permissions" value="adm_edit"' in html

    response = client.post(
        url,
        {"user": staff.pk, "job_title": "Tutor", "permissions": ["adm_edit", "internal_verifier"], "groups": []},
    )

    assert response.status_code == 302
    profile.refresh_from_db()
    assert set(profile.permissions) == {"adm_edit", "internal_verifier"}
