"""The LRS emulator speaks the service's wire format, without the database (no test here may use it)."""

import importlib.util
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from lxml import etree

from waypoint.attainments.lrs import emulator
from waypoint.core.ilr import uln_check_digit, uln_is_valid

from .conftest import CREDENTIALS, EMULATOR_PATH

pytestmark = pytest.mark.urls("tests.attainments.lrs.urls")

ACTION = "http://tempuri.org/ILearnerServiceR9/GetLearnerLearningEvents"
NS = {
    "s": "http://schemas.xmlsoap.org/soap/envelope/",
    "t": "http://tempuri.org/",
    "a": "http://api.lrs.qcf.gov.uk/model",
    "i": "http://www.w3.org/2001/XMLSchema-instance",
    "f": "http://api.lrs.qcf.gov.uk/faults",
    "e": "http://api.lrs.miap.gov.uk/exceptions",
}


def envelope(uln: str, *, given: str = "Ada", family: str = "Lovelace", password: str = "", prolog: str = "") -> bytes:
    """The reference's minimal request, hand-written (prefixes differ from zeep's on purpose)."""
    return f"""{prolog}<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://tempuri.org/"
 xmlns:r10="http://schemas.datacontract.org/2004/07/Amor.Qcf.Service.Interface"><s:Body><t:GetLearnerLearningEvents>
 <t:invokingOrganisation><r10:OrganisationRef>{CREDENTIALS["ukprn"]}</r10:OrganisationRef>
 <r10:Password>{password or CREDENTIALS["password"]}</r10:Password><r10:Ukprn>{CREDENTIALS["ukprn"]}</r10:Ukprn>
 <r10:Username>{CREDENTIALS["username"]}</r10:Username></t:invokingOrganisation>
 <t:userType>ORG</t:userType><t:vendorID>{CREDENTIALS["vendor_id"]}</t:vendorID><t:language>ENG</t:language>
 <t:uln>{uln}</t:uln><t:givenName>{given}</t:givenName><t:familyName>{family}</t:familyName>
 <t:dateOfBirth>1815-12-10</t:dateOfBirth><t:gender>2</t:gender><t:getType>FULL</t:getType>
 </t:GetLearnerLearningEvents></s:Body></s:Envelope>""".encode()


def post(client: Client, body: bytes, action: str = ACTION) -> Any:
    return client.post(
        EMULATOR_PATH, body, content_type="text/xml; charset=utf-8", headers={"SOAPAction": f'"{action}"'}
    )


def fault_code(response: Any) -> str:
    document = etree.fromstring(response.content)
    return str(document.xpath("string(//s:Fault/detail/f:DomainFault/f:ErrorCode)", namespaces=NS))


@pytest.mark.parametrize("query", ["wsdl", "singleWsdl"])
def test_wsdl_is_served_with_the_emulators_own_address(client: Client, query: str) -> None:
    response = client.get(f"{EMULATOR_PATH}?{query}")

    assert response.status_code == 200
    document = etree.fromstring(response.content)
    addresses = document.xpath("//soap:address/@location", namespaces={"soap": "http://schemas.xmlsoap.org/wsdl/soap/"})
    assert addresses == [f"http://testserver{EMULATOR_PATH}"]
    assert document.xpath("count(//*[local-name()='operation'][@name='GetLearnerLearningEvents'])") > 0


def test_get_without_wsdl_is_the_unsupported_http_verb_fault(client: Client) -> None:
    response = client.get(EMULATOR_PATH)

    assert response.status_code == 405
    document = etree.fromstring(response.content)
    assert document.xpath("string(//e:MIAPAPIException/Description)", namespaces=NS) == "UnsupportedHttpVerb"
    assert document.xpath("string(//e:MIAPAPIException/FurtherDetails)", namespaces=NS) == "UnsupportedHttpVerb GET"


def test_answers_in_the_services_wire_format(client: Client) -> None:
    response = post(client, envelope(emulator.EXACT_WITH_EVENTS))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    document = etree.fromstring(response.content)
    result = document.find("s:Body/t:GetLearnerLearningEventsResponse/t:GetLearnerLearningEventsResult", NS)
    assert result is not None
    assert result.nsmap == {"s": NS["s"], None: NS["t"], "a": NS["a"], "i": NS["i"]}
    assert response.content.startswith(b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>')
    assert [etree.QName(child).localname for child in result] == [
        "ResponseCode",
        "FoundULN",
        "IncomingULN",
        "LearnerRecord",
    ]
    ilr, ao, npd = result.findall("a:LearnerRecord/a:LearningEvent", NS)
    order = [name for name, _omit in emulator.EVENT_ELEMENTS]
    for event in (ilr, ao, npd):
        names = [etree.QName(child).localname for child in event]
        assert names == sorted(names, key=order.index)
        assert all(child.prefix == "a" for child in event)
    level = ilr.find("a:Level", NS)
    assert level is not None
    assert level.get(f"{{{NS['i']}}}nil") == "true"
    assert b'<a:Level i:nil="true"/>' in response.content
    assert ilr.find("a:LanguageForAssessment", NS) is None  # EmitDefaultValue=false: absent, not nil
    assert ao.findtext("a:Source", namespaces=NS) == "AO"
    assert ao.find("a:CollectionType", NS) is None


def test_not_verified_answer_has_an_empty_found_uln_and_record(client: Client) -> None:
    response = post(client, envelope(emulator.NOT_VERIFIED))

    assert b"<a:FoundULN/>" in response.content
    assert b"<a:LearnerRecord/>" in response.content
    assert b"<a:ResponseCode>WSEC0208</a:ResponseCode>" in response.content


def test_domain_fault_has_the_wcf_shape_and_http_500(client: Client) -> None:
    response = post(client, envelope("9000000113"))

    assert response.status_code == 500
    document = etree.fromstring(response.content)
    assert document.findtext("s:Body/s:Fault/faultcode", namespaces=NS) == "s:Client"
    assert fault_code(response) == "WSEC0005"


def test_post_needs_no_csrf_token_nor_login() -> None:
    response = post(Client(enforce_csrf_checks=True), envelope(emulator.EXACT_NO_EVENTS))

    assert response.status_code == 200


def test_wrong_password_is_incorrect_password(client: Client) -> None:
    assert fault_code(post(client, envelope(emulator.EXACT_WITH_EVENTS, password="guess"))) == "WSEC0005"


def test_credentials_are_the_ones_in_settings(client: Client, settings: Any) -> None:
    settings.WAYPOINT_LRS_PASSWORD = "rotated"

    assert fault_code(post(client, envelope(emulator.EXACT_WITH_EVENTS))) == "WSEC0005"
    assert fault_code(post(client, envelope(emulator.EXACT_WITH_EVENTS, password="rotated"))) == ""


def test_wrong_vendor_id_is_insufficient_access(client: Client, settings: Any) -> None:
    settings.WAYPOINT_LRS_VENDOR_ID = 4

    assert fault_code(post(client, envelope(emulator.EXACT_WITH_EVENTS))) == "WSEC0006"


def test_another_operations_soap_action_is_an_unknown_request(client: Client) -> None:
    response = post(
        client, envelope(emulator.EXACT_WITH_EVENTS), action="http://tempuri.org/ILearnerServiceR9/ViewAudit"
    )

    assert fault_code(response) == "WSEC0002"


def test_request_that_is_not_xml_is_invalid(client: Client) -> None:
    assert fault_code(post(client, b"<s:Envelope")) == "WSEC0001"


def test_request_entities_are_never_expanded(client: Client) -> None:
    prolog = '<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY uln SYSTEM "file:///etc/hostname">]>'

    response = post(client, envelope("&uln;", prolog=prolog))

    assert fault_code(response) == "WSEC0001"  # the ULN stayed empty
    sent = emulator.received[-1]
    assert sent.values["uln"] == ""


def test_empty_name_is_an_invalid_request(client: Client) -> None:
    """R-PLR-3: the service needs the ULN, given name and family name."""
    assert fault_code(post(client, envelope(emulator.EXACT_WITH_EVENTS, given=""))) == "WSEC0001"


def test_uln_with_a_bad_check_digit_is_an_invalid_request(client: Client) -> None:
    assert fault_code(post(client, envelope("9000000017"))) == "WSEC0001"


def test_fault_rate_answers_that_share_of_calls_out_of_hours(client: Client, settings: Any) -> None:
    settings.WAYPOINT_LRS_EMULATOR_FAULT_RATE = 0.25

    codes = [fault_code(post(client, envelope("1174112637"))) for _ in range(8)]

    assert codes == ["", "", "", "WSEC0004", "", "", "", "WSEC0004"]


def test_latency_is_read_per_request(client: Client, settings: Any) -> None:
    settings.WAYPOINT_LRS_EMULATOR_LATENCY_MS = 200

    started = time.monotonic()
    post(client, envelope(emulator.EXACT_NO_EVENTS))

    assert time.monotonic() - started >= 0.2


def test_any_valid_uln_gets_the_same_mixed_events_every_time() -> None:
    firsts = (str(n) for n in range(100000001, 100000400))
    ulns = [first + str(digit) for first in firsts if (digit := uln_check_digit(first)) is not None]

    events = {uln: emulator.generated_events(uln) for uln in ulns}

    assert events == {uln: emulator.generated_events(uln) for uln in ulns}
    assert {len(found) for found in events.values()} == set(range(7))
    assert {event["Source"] for found in events.values() for event in found} == {"ILR", "AO", "NPD"}
    assert all(event["Level"] is None for found in events.values() for event in found if event["Source"] == "ILR")


def test_test_ulns_have_valid_check_digits() -> None:
    ulns = [
        emulator.EXACT_WITH_EVENTS,
        emulator.EXACT_NO_EVENTS,
        emulator.LINKED,
        emulator.LINKED_MASTER,
        emulator.NOT_SHARED,
        emulator.NOT_VERIFIED,
        *emulator.DOMAIN_FAULTS,
        emulator.MIAP_FAULT,
        emulator.HTTP_500,
        emulator.MALFORMED,
        emulator.SLOW,
        emulator.FAULT_WITHOUT_CODE,
        emulator.HTTP_503_XML,
    ]

    assert [uln for uln in ulns if not uln_is_valid(uln)] == []
    assert len(set(ulns)) == len(ulns)


def _fresh_project_urls(settings: Any, *, emulators: bool) -> Any:
    settings.WAYPOINT_EMULATORS = emulators
    path = Path(__file__).resolve().parents[3] / "config" / "urls.py"
    spec = importlib.util.spec_from_file_location(f"fresh_config_urls_{emulators}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_emulator_is_not_mounted_when_emulators_are_off(settings: Any) -> None:
    urls = _fresh_project_urls(settings, emulators=False)

    with pytest.raises(Resolver404):
        resolve(EMULATOR_PATH, urlconf=urls)


def test_emulator_is_mounted_when_emulators_are_on(settings: Any) -> None:
    urls = _fresh_project_urls(settings, emulators=True)

    assert resolve(EMULATOR_PATH, urlconf=urls).func is emulator.learner_service
