"""The PLR download window's grid shows every field of a learning event (R-PLR-4), not only its columns."""

import pytest
from django.test import Client

from tests import factories
from tests.attainments.conftest import FakeLrs, event, lrs_on  # noqa: F401 - the fixture
from tests.web.conftest import logged_in
from waypoint.attainments.lrs.types import EXACT_MATCH, LearnerEvents, LearnerQuery
from waypoint.attainments.models import PlrDownload
from waypoint.attainments.services import plr_download_run
from waypoint.people.models import Perm

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lrs_on")]


def test_each_event_row_opens_to_every_field_the_service_returned(client: Client) -> None:
    logged_in(client, [Perm.PLR_VIEW])
    learner = factories.learner(surname="Okafor")

    def answer(query: LearnerQuery) -> LearnerEvents:
        found = event(query.uln, 1, credits=12, language_for_assessment="Welsh", under_data_challenge="Y")
        return LearnerEvents(incoming_uln=query.uln, found_uln="9000000040", response_code=EXACT_MATCH, events=(found,))

    client.post("/learner-manager/download/", {"field": "surname", "op": "equals", "value": "Okafor", "scope": "all"})
    download = PlrDownload.objects.get()
    plr_download_run(download.pk, client=FakeLrs(answer))
    html = client.get(f"/plr/downloads/{download.pk}/").content.decode()
    assert learner.uln in html
    assert "All fields" in html
    assert '<dt>Found ULN</dt><dd class="mono">9000000040</dd>' in html  # a linked learner's master record
    assert "<dt>Credits</dt><dd>12</dd>" in html
    assert "<dt>Language for assessment</dt><dd>Welsh</dd>" in html
    assert "<dt>Under data challenge</dt><dd>Y</dd>" in html
