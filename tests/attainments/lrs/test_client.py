"""The LRS client against the emulator over real HTTP (R-PLR-4): every answer becomes a LearnerEvents, never a crash."""

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from waypoint.attainments.lrs import emulator
from waypoint.attainments.lrs.client import LrsClient, LrsNotConfigured, lrs_client, lrs_configured
from waypoint.attainments.lrs.types import ERROR_DESCRIPTIONS, RESPONSE_DESCRIPTIONS, LearnerEvents, LearnerQuery

pytestmark = pytest.mark.urls("tests.attainments.lrs.urls")


def ask(client: LrsClient, uln: str, given: str = "Ada", family: str = "Lovelace", **kwargs: Any) -> LearnerEvents:
    return client.learner_events(LearnerQuery(uln=uln, given_name=given, family_name=family, **kwargs))


def test_exact_match_returns_the_learning_events_with_typed_fields(lrs: LrsClient) -> None:
    """R-PLR-4: WSRC0004 and every event, with ints for ID and Credits and None for a nil or absent element."""
    answer = ask(lrs, emulator.EXACT_WITH_EVENTS)

    assert answer.response_code == "WSRC0004"
    assert answer.response_description == RESPONSE_DESCRIPTIONS["WSRC0004"]
    assert answer.error_code == ""
    assert answer.incoming_uln == answer.found_uln == emulator.EXACT_WITH_EVENTS
    assert [event.source for event in answer.events] == ["ILR", "AO", "NPD"]
    ilr, ao, _npd = answer.events
    assert ilr.id == 1601
    assert isinstance(ilr.id, int)
    assert ilr.credits == 0
    assert ilr.level is None  # nil on ILR rows
    assert ilr.language_for_assessment is None  # absent (EmitDefaultValue=false)
    assert ilr.grade == "9999999999"
    assert ilr.awarding_organisation_ukprn == "UNKNWN"
    assert ao.level is not None
    assert ao.level.startswith(("Level", "Entry"))
    assert isinstance(ao.credits, int)
    assert ao.credits > 0
    assert ao.language_for_assessment == "English"
    assert ao.collection_type is None
    assert dt.date.fromisoformat(ao.achievement_award_date or "")


def test_exact_match_without_events_returns_no_events(lrs: LrsClient) -> None:
    answer = ask(lrs, emulator.EXACT_NO_EVENTS)

    assert (answer.response_code, answer.found_uln, answer.events) == ("WSRC0004", emulator.EXACT_NO_EVENTS, ())


def test_linked_learner_returns_the_master_records_uln_and_events(lrs: LrsClient) -> None:
    """R-PLR-4: WSRC0022, FoundULN is the master ULN, not the one asked for."""
    answer = ask(lrs, emulator.LINKED)

    assert answer.response_code == "WSRC0022"
    assert answer.response_description == RESPONSE_DESCRIPTIONS["WSRC0022"]
    assert answer.incoming_uln == emulator.LINKED
    assert answer.found_uln == emulator.LINKED_MASTER
    assert len(answer.events) == 2
    assert answer.events == ask(lrs, emulator.LINKED_MASTER).events


def test_learner_not_sharing_gets_the_response_code_and_no_events(lrs: LrsClient) -> None:
    answer = ask(lrs, emulator.NOT_SHARED)

    assert (answer.response_code, answer.error_code, answer.events) == ("WSEC0206", "", ())
    assert answer.response_description == RESPONSE_DESCRIPTIONS["WSEC0206"]
    assert answer.found_uln == emulator.NOT_SHARED


def test_learner_not_verified_gets_the_response_code_an_empty_found_uln_and_no_events(lrs: LrsClient) -> None:
    answer = ask(lrs, emulator.NOT_VERIFIED)

    assert (answer.response_code, answer.found_uln, answer.error_code, answer.events) == ("WSEC0208", "", "", ())
    assert answer.response_description == RESPONSE_DESCRIPTIONS["WSEC0208"]


def test_names_that_do_not_match_the_record_are_not_verified(lrs: LrsClient) -> None:
    answer = ask(lrs, emulator.EXACT_WITH_EVENTS, given="Grace", family="Hopper")

    assert (answer.response_code, answer.found_uln, answer.events) == ("WSEC0208", "", ())


@pytest.mark.parametrize(("uln", "code"), sorted(emulator.DOMAIN_FAULTS.items()))
def test_domain_fault_becomes_its_error_code_and_description(lrs: LrsClient, uln: str, code: str) -> None:
    """R-PLR-4: a SOAP fault with a DomainFault detail fills Error Code and Error Description."""
    answer = ask(lrs, uln)

    assert answer.error_code == code
    assert answer.error_description == ERROR_DESCRIPTIONS[code]
    assert (answer.response_code, answer.events, answer.incoming_uln) == ("", (), uln)


def test_miap_api_exception_fault_is_read_like_a_domain_fault(lrs: LrsClient) -> None:
    answer = ask(lrs, emulator.MIAP_FAULT)

    assert (answer.error_code, answer.error_description) == ("WSEC0001", ERROR_DESCRIPTIONS["WSEC0001"])
    assert answer.response_code == ""


def test_fault_without_an_error_code_is_a_generic_lrs_fault_with_its_own_text(lrs: LrsClient) -> None:
    answer = ask(lrs, emulator.FAULT_WITHOUT_CODE)

    assert answer.error_code == "LRS_FAULT"
    assert answer.error_description.startswith(ERROR_DESCRIPTIONS["LRS_FAULT"])
    assert "Something went wrong." in answer.error_description


@pytest.mark.parametrize("uln", [emulator.HTTP_500, emulator.HTTP_503_XML])
def test_http_error_without_a_soap_fault_means_the_service_is_unavailable(lrs: LrsClient, uln: str) -> None:
    answer = ask(lrs, uln)

    assert (answer.error_code, answer.error_description) == ("LRS_UNAVAILABLE", ERROR_DESCRIPTIONS["LRS_UNAVAILABLE"])


def test_answer_slower_than_the_timeout_means_the_service_is_unavailable(make_client: Callable[..., LrsClient]) -> None:
    client = make_client(timeout=0.3)

    answer = ask(client, emulator.SLOW)

    assert answer.error_code == "LRS_UNAVAILABLE"
    assert answer.events == ()


def test_answer_within_the_timeout_is_read(make_client: Callable[..., LrsClient], settings: Any) -> None:
    settings.WAYPOINT_LRS_EMULATOR_LATENCY_MS = 100

    answer = ask(make_client(timeout=2.0), emulator.EXACT_NO_EVENTS)

    assert answer.response_code == "WSRC0004"


def test_malformed_answer_is_reported_as_malformed(lrs: LrsClient) -> None:
    answer = ask(lrs, emulator.MALFORMED)

    assert (answer.error_code, answer.error_description) == ("LRS_MALFORMED", ERROR_DESCRIPTIONS["LRS_MALFORMED"])


def test_service_that_cannot_be_reached_is_unavailable() -> None:
    client = LrsClient(
        url="http://127.0.0.1:9/LearnerServiceR9.svc", ukprn="1", username="u", password="p", vendor_id=3
    )

    assert ask(client, emulator.EXACT_WITH_EVENTS).error_code == "LRS_UNAVAILABLE"


def test_wrong_password_in_the_settings_gives_incorrect_password(make_client: Callable[..., LrsClient]) -> None:
    answer = ask(make_client(password="not-the-password"), emulator.EXACT_WITH_EVENTS)

    assert (answer.error_code, answer.error_description) == ("WSEC0005", ERROR_DESCRIPTIONS["WSEC0005"])


def test_unknown_ukprn_gives_unknown_organisation(make_client: Callable[..., LrsClient]) -> None:
    assert ask(make_client(ukprn="10099999"), emulator.EXACT_WITH_EVENTS).error_code == "WSEC0003"


def test_request_sends_the_elements_in_schema_order_with_the_credentials(lrs: LrsClient) -> None:
    """WCF drops out-of-order members silently, so the order is part of the contract."""
    ask(lrs, emulator.EXACT_WITH_EVENTS, date_of_birth=dt.date(1815, 12, 10), gender="2")

    sent = emulator.last_request_for(emulator.EXACT_WITH_EVENTS)
    assert sent is not None
    assert sent.soap_action == "http://tempuri.org/ILearnerServiceR9/GetLearnerLearningEvents"
    assert sent.elements == (
        "invokingOrganisation",
        "userType",
        "vendorID",
        "language",
        "uln",
        "givenName",
        "familyName",
        "dateOfBirth",
        "gender",
        "getType",
    )
    assert sent.organisation_elements == ("OrganisationRef", "Password", "Ukprn", "Username")
    assert sent.organisation == {
        "OrganisationRef": "10012345",
        "Password": "s3cret-lrs",
        "Ukprn": "10012345",
        "Username": "waypoint-test",
    }
    assert sent.values == {
        "userType": "ORG",
        "vendorID": "3",
        "language": "ENG",
        "uln": emulator.EXACT_WITH_EVENTS,
        "givenName": "Ada",
        "familyName": "Lovelace",
        "dateOfBirth": "1815-12-10",
        "gender": "2",
        "getType": "FULL",
    }


def test_unknown_date_of_birth_is_sent_empty(lrs: LrsClient) -> None:
    ask(lrs, emulator.EXACT_NO_EVENTS)

    sent = emulator.last_request_for(emulator.EXACT_NO_EVENTS)
    assert sent is not None
    assert (sent.values["dateOfBirth"], sent.values["gender"]) == ("", "0")


def test_one_client_serves_a_pool_of_threads(lrs: LrsClient) -> None:
    """R-PLR-4: the download calls with bounded concurrency through one shared client."""
    ulns = [emulator.EXACT_WITH_EVENTS, emulator.LINKED, emulator.NOT_SHARED, "1174112637", "4444599390"] * 8

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda uln: ask(lrs, uln), ulns))

    assert [answer.incoming_uln for answer in answers] == ulns
    assert all(answer.response_code and not answer.error_code for answer in answers)
    assert len({answer.events for answer in answers if answer.incoming_uln == "1174112637"}) == 1


def test_client_certificate_and_tls_verification_are_configured() -> None:
    client = LrsClient(
        url="https://lrs.example/LearnerServiceR9.svc",
        ukprn="1",
        username="u",
        password="never-shown",
        vendor_id=3,
        cert_file="/etc/waypoint/lrs.crt",
        key_file="/etc/waypoint/lrs.key",
    )

    session = client._transport.session
    assert session.cert == ("/etc/waypoint/lrs.crt", "/etc/waypoint/lrs.key")
    assert session.verify is True
    assert "never-shown" not in repr(client)


def test_client_is_built_from_settings(settings: Any) -> None:
    settings.WAYPOINT_LRS_URL = "https://lrs.example/LearnerServiceR9.svc"

    client = lrs_client()

    assert lrs_configured()
    assert (client.url, client.ukprn, client.username, client.vendor_id) == (
        "https://lrs.example/LearnerServiceR9.svc",
        "10012345",
        "waypoint-test",
        3,
    )


@pytest.mark.parametrize(
    "missing", ["WAYPOINT_LRS_URL", "WAYPOINT_LRS_UKPRN", "WAYPOINT_LRS_USERNAME", "WAYPOINT_LRS_PASSWORD"]
)
def test_connection_missing_a_setting_is_not_configured(settings: Any, missing: str) -> None:
    """R-PLR-1: nothing is offered when the LRS connection is not configured."""
    settings.WAYPOINT_LRS_URL = "https://lrs.example/LearnerServiceR9.svc"
    setattr(settings, missing, "")

    assert not lrs_configured()
    with pytest.raises(LrsNotConfigured):
        lrs_client()


def test_connection_without_a_vendor_id_is_not_configured(settings: Any) -> None:
    settings.WAYPOINT_LRS_URL = "https://lrs.example/LearnerServiceR9.svc"
    settings.WAYPOINT_LRS_VENDOR_ID = 0

    assert not lrs_configured()
