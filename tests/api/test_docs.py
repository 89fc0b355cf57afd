"""The OpenAPI description and the interactive docs, which must work offline."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_openapi_description_loads_and_lists_every_resource() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/learners",
        "/api/v1/employers",
        "/api/v1/managers",
        "/api/v1/groups",
        "/api/v1/programmes",
        "/api/v1/learners/{learner_id}/components/{component_id}",
        "/api/v1/learners/{learner_id}/journal",
    ):
        assert path in schema["paths"]
    assert {"TokenAuth", "StaffSessionAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_docs_page_loads_only_local_assets() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets
    assert all(a.startswith("/static/") for a in assets)
    assert '"validatorUrl": null' in html  # Swagger UI would otherwise call validator.swagger.io


def test_the_docs_assets_are_served_by_staticfiles_in_debug(settings: object) -> None:
    from django.contrib.staticfiles import finders

    for name in ("ninja/swagger-ui.css", "ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js"):
        assert finders.find(name), name
