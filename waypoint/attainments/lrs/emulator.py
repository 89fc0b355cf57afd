"""An emulator of the LRS PLR web service (LearnerServiceR9.svc), for development, tests and benchmarks.

Mounted at /emulators/lrs/LearnerServiceR9.svc only when settings.WAYPOINT_EMULATORS is on (`make run`).
It speaks SOAP 1.1 exactly as the real service does (see docs/lrs-emulator.md): GET ?wsdl / ?singleWsdl
serves the vendored WSDL with its soap:address pointing here; POST answers GetLearnerLearningEvents.
It keeps no database state: every answer is computed from the request.

Credentials must equal settings WAYPOINT_LRS_UKPRN (else WSEC0003), WAYPOINT_LRS_PASSWORD (else WSEC0005),
WAYPOINT_LRS_USERNAME and WAYPOINT_LRS_VENDOR_ID (else WSEC0006).

Any other valid ULN gets an exact match (WSRC0004) with 0-6 learning events drawn from a PRNG seeded with the
ULN (the same ULN always gets the same events), whatever the names. Test ULNs (all with valid check digits):

| ULN        | answer                                                                                  |
| ---------- | --------------------------------------------------------------------------------------- |
| 9000000016 | WSRC0004 exact match with 3 events (ILR with nil Level, AO, NPD)                        |
| 9000000024 | WSRC0004 exact match, no events                                                         |
| 9000000032 | WSRC0022 linked learner: FoundULN 9000000040, whose events (2) are returned             |
| 9000000040 | WSRC0004 exact match with 2 events (the master record of 9000000032)                    |
| 9000000059 | WSEC0206 learner has not agreed to share: FoundULN set, empty LearnerRecord             |
| 9000000067 | WSEC0208 learner not verified: empty FoundULN, empty LearnerRecord                      |
| 9000000075 | DomainFault WSEC0001 (invalid request)                                                  |
| 9000000083 | DomainFault WSEC0002 (unknown request)                                                  |
| 9000000091 | DomainFault WSEC0003 (unknown organisation)                                             |
| 9000000105 | DomainFault WSEC0004 (out of hours)                                                     |
| 9000000113 | DomainFault WSEC0005 (incorrect password)                                               |
| 9000000121 | DomainFault WSEC0006 (insufficient access)                                              |
| 9000000148 | MIAPAPIException fault WSEC0001                                                         |
| 9000000156 | HTTP 500 with an HTML body, no SOAP                                                     |
| 9000000164 | HTTP 200 with truncated XML                                                             |
| 9000000172 | exact match with 1 event, answered after SLOW_SECONDS (2 s)                             |
| 9000000180 | DomainFault without an ErrorCode                                                        |
| 9000000199 | HTTP 503 with a well-formed XHTML body, no SOAP fault                                   |

The test ULNs with a record (9000000016, -024, -032, -040, -059, -172) belong to Ada Lovelace: other names
(compared without case or surrounding spaces) get WSEC0208. An empty uln, givenName or familyName, a ULN with a
bad check digit, or a getType other than FULL/BRIEF gets a WSEC0001 DomainFault.

Latency: every POST waits settings.WAYPOINT_LRS_EMULATOR_LATENCY_MS first (read per request).
Fault rate: settings.WAYPOINT_LRS_EMULATOR_FAULT_RATE (0..1) of the calls answer a WSEC0004 DomainFault, drawn
deterministically: the n-th call since start (or `reset()`) faults when floor(n*rate) > floor((n-1)*rate),
so exactly that share faults, evenly spread. The draw comes after the envelope checks, before the credentials.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from waypoint.core.ilr import uln_is_valid

WSDL_FILE = Path(__file__).with_name("LearnerServiceR9.wsdl")
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TEMPURI = "http://tempuri.org/"
ORG_NS = "http://schemas.datacontract.org/2004/07/Amor.Qcf.Service.Interface"
MODEL_NS = "http://api.lrs.qcf.gov.uk/model"
FAULTS_NS = "http://api.lrs.qcf.gov.uk/faults"
EXCEPTIONS_NS = "http://api.lrs.miap.gov.uk/exceptions"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
ACTION = "http://tempuri.org/ILearnerServiceR9/GetLearnerLearningEvents"
KNOWN_ACTIONS = {
    f"http://tempuri.org/ILearnerServiceR9/{name}"
    for name in (
        "LearnerByUln",
        "GetLearnerLearningEvents",
        "UpdateLearnerSubsetFields",
        "ViewAudit",
        "GetOrganisation",
    )
}
REQUEST_ORDER = (
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
# LearningEvent elements in the WSDL's (alphabetical) order; True: EmitDefaultValue=false, absent when null.
EVENT_ELEMENTS = (
    ("AchievementAwardDate", False),
    ("AchievementProviderName", True),
    ("AchievementProviderUkprn", False),
    ("AwardingOrganisationName", True),
    ("AwardingOrganisationUkprn", True),
    ("CollectionType", True),
    ("Credits", False),
    ("DateLoaded", True),
    ("Grade", False),
    ("ID", False),
    ("LanguageForAssessment", True),
    ("Level", False),
    ("ParticipationEndDate", True),
    ("ParticipationStartDate", True),
    ("QualificationType", True),
    ("Restriction", True),
    ("ReturnNumber", True),
    ("Source", False),
    ("Status", True),
    ("Subject", False),
    ("SubjectCode", False),
    ("UnderDataChallenge", True),
)
# getType BRIEF: the reduced set of MoJ's mock of the service (FULL is what Waypoint sends).
BRIEF_ELEMENTS = {
    "ID",
    "AchievementAwardDate",
    "Credits",
    "Source",
    "Level",
    "Subject",
    "Grade",
    "SubjectCode",
    "AchievementProviderUkprn",
}

TEST_GIVEN_NAME = "Ada"
TEST_FAMILY_NAME = "Lovelace"
EXACT_WITH_EVENTS = "9000000016"
EXACT_NO_EVENTS = "9000000024"
LINKED = "9000000032"
LINKED_MASTER = "9000000040"
NOT_SHARED = "9000000059"
NOT_VERIFIED = "9000000067"
DOMAIN_FAULTS = {
    "9000000075": "WSEC0001",
    "9000000083": "WSEC0002",
    "9000000091": "WSEC0003",
    "9000000105": "WSEC0004",
    "9000000113": "WSEC0005",
    "9000000121": "WSEC0006",
}
MIAP_FAULT = "9000000148"
HTTP_500 = "9000000156"
MALFORMED = "9000000164"
SLOW = "9000000172"
FAULT_WITHOUT_CODE = "9000000180"
HTTP_503_XML = "9000000199"
SLOW_SECONDS = 2.0
FAULT_TEXTS = {
    "WSEC0001": "Invalid request: the request was badly formed.",
    "WSEC0002": "Unknown request: the operation is not supported.",
    "WSEC0003": "Unknown organisation.",
    "WSEC0004": "Out of hours: the service is not available at this time.",
    "WSEC0005": "Incorrect password.",
    "WSEC0006": "Insufficient access: the organisation may not use this web service.",
}
WCF_NO_REASON = "The creator of this fault did not specify a Reason."

_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


@dataclass(frozen=True)
class ReceivedRequest:
    """What the emulator read from one GetLearnerLearningEvents call (kept in memory for tests)."""

    soap_action: str
    elements: tuple[str, ...]  # the body operation's child names, in the order sent
    organisation_elements: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)
    organisation: dict[str, str] = field(default_factory=dict)


received: deque[ReceivedRequest] = deque(maxlen=200)
_calls = itertools.count(1)
_calls_lock = threading.Lock()


def reset() -> None:
    """Forget the received requests and restart the fault-rate draw (tests)."""
    global _calls
    with _calls_lock:
        _calls = itertools.count(1)
    received.clear()


def last_request_for(uln: str) -> ReceivedRequest | None:
    return next((request for request in reversed(received) if request.values.get("uln") == uln), None)


class _Fault(Exception):
    def __init__(self, code: str, *, text: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.text = text or FAULT_TEXTS.get(code, code)


@csrf_exempt
def learner_service(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and {key.lower() for key in request.GET} & {"wsdl", "singlewsdl"}:
        return HttpResponse(_wsdl_for(request.build_absolute_uri(request.path)), content_type="text/xml; charset=utf-8")
    if request.method != "POST":
        response = _xml(_miap_fault("WSEC0001", "UnsupportedHttpVerb", f"UnsupportedHttpVerb {request.method}"), 405)
        response["Allow"] = "POST"
        return response
    latency_ms = settings.WAYPOINT_LRS_EMULATOR_LATENCY_MS
    if latency_ms > 0:
        time.sleep(latency_ms / 1000)
    try:
        return _answer(request)
    except _Fault as fault:
        return _xml(_domain_fault(fault.code, fault.text), 500)


def _answer(request: HttpRequest) -> HttpResponse:
    try:
        envelope = etree.fromstring(request.body, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        raise _Fault("WSEC0001", text=f"The request is not well-formed XML: {exc}") from exc
    body = envelope.find(f"{{{SOAP_ENV}}}Body") if envelope.tag == f"{{{SOAP_ENV}}}Envelope" else None
    operation = next((child for child in body if isinstance(child.tag, str)), None) if body is not None else None
    if operation is None:
        raise _Fault("WSEC0001", text="The request is not a SOAP 1.1 envelope with a body.")
    soap_action = request.headers.get("SOAPAction", "").strip().strip('"')
    if soap_action not in KNOWN_ACTIONS:
        raise _Fault("WSEC0002", text=f"Unknown SOAPAction {soap_action!r}.")
    if soap_action != ACTION or operation.tag != f"{{{TEMPURI}}}GetLearnerLearningEvents":
        raise _Fault("WSEC0002", text="The emulator answers GetLearnerLearningEvents only.")

    call = _read_request(soap_action, operation)
    received.append(call)
    _draw_fault_rate()
    _check_credentials(call.organisation, call.values)
    uln = call.values.get("uln", "")
    given, family = call.values.get("givenName", ""), call.values.get("familyName", "")
    if not uln or not given.strip() or not family.strip():
        raise _Fault("WSEC0001", text="uln, givenName and familyName are required.")
    if not uln_is_valid(uln):
        raise _Fault("WSEC0001", text=f"{uln!r} is not a valid ULN.")
    if call.values.get("getType", "") not in ("FULL", "BRIEF"):
        raise _Fault("WSEC0001", text="getType must be FULL or BRIEF.")
    brief = call.values["getType"] == "BRIEF"

    if uln in DOMAIN_FAULTS:
        raise _Fault(DOMAIN_FAULTS[uln])
    if uln == FAULT_WITHOUT_CODE:
        return _xml(_domain_fault("", "Something went wrong."), 500)
    if uln == MIAP_FAULT:
        return _xml(_miap_fault("WSEC0001", FAULT_TEXTS["WSEC0001"], "cvc-complex-type: emulated invalid request"), 500)
    if uln == HTTP_500:
        return HttpResponse(b"<html><body><h1>500 Internal Server Error</h1>", status=500, content_type="text/html")
    if uln == HTTP_503_XML:
        page = b'<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Service Unavailable</h1></body></html>'
        return HttpResponse(page, status=503, content_type="text/html")
    if uln == MALFORMED:
        whole = _learning_events_response("WSRC0004", uln, uln, _test_events(EXACT_WITH_EVENTS), brief=False)
        return HttpResponse(whole[: len(whole) // 2], content_type="text/xml; charset=utf-8")
    if uln == SLOW:
        time.sleep(SLOW_SECONDS)

    if uln in _TEST_RECORDS:
        if not (_same_name(given, TEST_GIVEN_NAME) and _same_name(family, TEST_FAMILY_NAME)):
            return _xml(_learning_events_response("WSEC0208", uln, "", [], brief=brief))
        if uln == NOT_SHARED:
            return _xml(_learning_events_response("WSEC0206", uln, uln, [], brief=brief))
        if uln == LINKED:
            return _xml(
                _learning_events_response("WSRC0022", uln, LINKED_MASTER, _test_events(LINKED_MASTER), brief=brief)
            )
        return _xml(_learning_events_response("WSRC0004", uln, uln, _test_events(uln), brief=brief))
    if uln == NOT_VERIFIED:
        return _xml(_learning_events_response("WSEC0208", uln, "", [], brief=brief))
    return _xml(_learning_events_response("WSRC0004", uln, uln, generated_events(uln), brief=brief))


def _read_request(soap_action: str, operation: etree._Element) -> ReceivedRequest:
    elements: list[str] = []
    values: dict[str, str] = {}
    organisation: dict[str, str] = {}
    organisation_elements: list[str] = []
    for child in operation:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        # The schema is elementFormDefault="qualified": an element in another namespace is not the one asked for.
        name = qname.localname if qname.namespace == TEMPURI else f"{{{qname.namespace}}}{qname.localname}"
        elements.append(name)
        if name == "invokingOrganisation":
            for org_child in child:
                if not isinstance(org_child.tag, str):
                    continue
                org_qname = etree.QName(org_child)
                org_name = org_qname.localname if org_qname.namespace == ORG_NS else str(org_child.tag)
                organisation_elements.append(org_name)
                organisation[org_name] = (org_child.text or "").strip()
        elif name in REQUEST_ORDER:
            values[name] = (child.text or "").strip()
    return ReceivedRequest(
        soap_action=soap_action,
        elements=tuple(elements),
        organisation_elements=tuple(organisation_elements),
        values=values,
        organisation=organisation,
    )


def _draw_fault_rate() -> None:
    rate = min(max(float(settings.WAYPOINT_LRS_EMULATOR_FAULT_RATE), 0.0), 1.0)
    with _calls_lock:
        n = next(_calls)
    if rate > 0 and math.floor(n * rate) > math.floor((n - 1) * rate):
        raise _Fault("WSEC0004")


def _check_credentials(organisation: dict[str, str], values: dict[str, str]) -> None:
    if organisation.get("Ukprn", "") != settings.WAYPOINT_LRS_UKPRN:
        raise _Fault("WSEC0003")
    if organisation.get("Password", "") != settings.WAYPOINT_LRS_PASSWORD:
        raise _Fault("WSEC0005")
    if organisation.get("Username", "") != settings.WAYPOINT_LRS_USERNAME:
        raise _Fault("WSEC0006", text="Unknown user for this organisation.")
    if values.get("vendorID", "") != str(settings.WAYPOINT_LRS_VENDOR_ID):
        raise _Fault("WSEC0006", text="Unknown vendor.")


def _same_name(sent: str, held: str) -> bool:
    return sent.strip().casefold() == held.casefold()


# ---- wire format ----


def _xml(envelope: etree._Element, status: int = 200) -> HttpResponse:
    return HttpResponse(
        etree.tostring(envelope, encoding="utf-8"), status=status, content_type="text/xml; charset=utf-8"
    )


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"s": SOAP_ENV})
    return envelope, etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")


def _learning_events_response(
    code: str, incoming: str, found: str, events: list[dict[str, Any]], *, brief: bool
) -> etree._Element:
    envelope, body = _envelope()
    response = etree.SubElement(body, f"{{{TEMPURI}}}GetLearnerLearningEventsResponse", nsmap={None: TEMPURI})
    result = etree.SubElement(response, f"{{{TEMPURI}}}GetLearnerLearningEventsResult", nsmap={"a": MODEL_NS, "i": XSI})
    etree.SubElement(result, f"{{{MODEL_NS}}}ResponseCode").text = code
    etree.SubElement(result, f"{{{MODEL_NS}}}FoundULN").text = found or None
    etree.SubElement(result, f"{{{MODEL_NS}}}IncomingULN").text = incoming
    record = etree.SubElement(result, f"{{{MODEL_NS}}}LearnerRecord")
    for event in events:
        element = etree.SubElement(record, f"{{{MODEL_NS}}}LearningEvent")
        for name, omit_when_null in EVENT_ELEMENTS:
            if brief and name not in BRIEF_ELEMENTS:
                continue
            value = event.get(name)
            if value is None and omit_when_null:
                continue
            child = etree.SubElement(element, f"{{{MODEL_NS}}}{name}")
            if value is None:
                child.set(f"{{{XSI}}}nil", "true")
            else:
                child.text = str(value)
    return envelope


def _fault_element(body: etree._Element, faultcode: str, faultstring: str, *, lang: str = "") -> etree._Element:
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = faultcode
    reason = etree.SubElement(fault, "faultstring")
    reason.text = faultstring
    if lang:
        reason.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
    return etree.SubElement(fault, "detail")


def _domain_fault(code: str, text: str) -> etree._Element:
    """A WCF FaultException<DomainFault>, as LearnerServiceR9.svc declares it."""
    envelope, body = _envelope()
    detail = _fault_element(body, "s:Client", WCF_NO_REASON, lang="en-GB")
    fault = etree.SubElement(detail, f"{{{FAULTS_NS}}}DomainFault", nsmap={None: FAULTS_NS, "i": XSI})
    if code:
        etree.SubElement(fault, f"{{{FAULTS_NS}}}ErrorCode").text = code
    etree.SubElement(fault, f"{{{FAULTS_NS}}}ErrorDetail").text = base64.b64encode(text.encode()).decode()
    return envelope


def _miap_fault(code: str, description: str, further: str) -> etree._Element:
    """The MIAPAPIException shape of the learner-register service (unqualified children, as in real samples)."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    detail = _fault_element(body, "soapenv:Server", "uk.gov.miap.lrs.api.exceptions.MIAPAPIException")
    exception = etree.SubElement(detail, f"{{{EXCEPTIONS_NS}}}MIAPAPIException", nsmap={"ns10": EXCEPTIONS_NS})
    etree.SubElement(exception, "ErrorCode").text = code
    etree.SubElement(exception, "ErrorActor").text = "uk.gov.miap.lrs.api.learner.utils.MSGValidator.validateSOAPMSG()"
    etree.SubElement(exception, "Description").text = description
    etree.SubElement(exception, "FurtherDetails").text = further
    etree.SubElement(exception, "ErrorTimestamp").text = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return envelope


@lru_cache(maxsize=8)
def _wsdl_for(address: str) -> bytes:
    tree = etree.parse(str(WSDL_FILE), etree.XMLParser(**_PARSER_OPTIONS))
    for element in tree.iter(f"{{{WSDL_SOAP_NS}}}address"):
        element.set("location", address)
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


# ---- records ----

_ILR_AIMS = (
    ("50079116", "Functional Skills qualification in English at Level 1", "Functional Skills"),
    ("60346916", "Level 3 Diploma in Adult Care", "NVQ"),
    ("ZPROG001", "Apprenticeship programme aim", "Apprenticeship standard"),
    ("60323541", "Level 2 Certificate in Customer Service", "QCF Certificate"),
    ("1000323X", "Key Skills in Application of Number - level 1", "NVQ/GNVQ Key Skills Unit"),
    ("50086832", "Level 2 Award in Health and Safety in the Workplace", "QCF Award"),
)
_AO_QUALIFICATIONS = (
    ("603/3146/0", "Level 3 Diploma in Adult Care (England)", "Level 3", "Occupational Qualification", 58),
    ("600/1166/X", "Level 2 Certificate in Principles of Team Leading", "Level 2", "QCF Certificate", 14),
    (
        "603/0930/2",
        "Level 2 Certificate in Food Hygiene and Safety",
        "Level 2",
        "Vocationally-Related Qualification",
        12,
    ),
    ("K/501/5773", "Introduction to Construction Work: Entry 3", "Entry Level", "QCF Unit", 2),
    ("610/0091/5", "Level 5 Diploma in Leadership and Management", "Level 5", "Occupational Qualification", 90),
    ("601/7346/3", "Level 1 Award in Employability Skills", "Level 1", "QCF Award", 4),
)
_AWARDING_ORGANISATIONS = (
    ("Pearson Education Ltd", "10024878"),
    ("City and Guilds of London Institute", "10001482"),
    ("NCFE", "10003960"),
    ("Highfield Qualifications", "10029817"),
    ("OCR", "10009888"),
)
_NPD_SUBJECTS = (
    ("GCSE in English Language", "601/4292/9"),
    ("GCSE in Mathematics", "601/4700/9"),
    ("GCSE in Combined Science", "601/8758/9"),
    ("GCSE in History", "601/8090/X"),
    ("GCSE in Geography", "601/8410/2"),
    ("GCSE in Art and Design", "601/8087/X"),
)
_PROVIDERS = (
    ("NORTHGATE COLLEGE", "10004577"),
    ("RIVERSIDE TRAINING LIMITED", "10036143"),
    ("VALLEY PARK SCHOOL", "10033421"),
    ("HARBOUR SKILLS ACADEMY", "10052390"),
)


def _date(rng: random.Random, start_year: int, end_year: int) -> dt.date:
    start = dt.date(start_year, 1, 1)
    return start + dt.timedelta(days=rng.randrange((dt.date(end_year, 12, 31) - start).days))


def _loaded(rng: random.Random, after: dt.date) -> str:
    moment = dt.datetime.combine(after + dt.timedelta(days=rng.randint(20, 200)), dt.time(rng.randint(6, 20)))
    return (moment + dt.timedelta(minutes=rng.randrange(60), seconds=rng.randrange(60))).strftime("%Y-%m-%d %H:%M:%S")


def _ilr_event(rng: random.Random) -> dict[str, Any]:
    code, subject, qualification_type = rng.choice(_ILR_AIMS)
    provider, provider_ukprn = rng.choice(_PROVIDERS)
    start = _date(rng, 2014, 2023)
    end = start + dt.timedelta(days=rng.randint(60, 700))
    return {
        "AchievementAwardDate": end.isoformat(),
        "AchievementProviderName": provider,
        "AchievementProviderUkprn": provider_ukprn,
        "AwardingOrganisationName": "UNKNOWN",
        "AwardingOrganisationUkprn": "UNKNWN",
        "CollectionType": "W",
        "Credits": 0,
        "DateLoaded": _loaded(rng, end),
        "Grade": "9999999999",
        "Level": None,
        "ParticipationEndDate": end.isoformat(),
        "ParticipationStartDate": start.isoformat(),
        "QualificationType": qualification_type,
        "Restriction": "0",
        "ReturnNumber": f"{rng.randint(1, 14):02d}",
        "Source": "ILR",
        "Status": "F",
        "Subject": subject,
        "SubjectCode": code,
        "UnderDataChallenge": "N",
    }


def _ao_event(rng: random.Random) -> dict[str, Any]:
    code, subject, level, qualification_type, credits = rng.choice(_AO_QUALIFICATIONS)
    organisation, organisation_ukprn = rng.choice(_AWARDING_ORGANISATIONS)
    provider, provider_ukprn = rng.choice(_PROVIDERS)
    awarded = _date(rng, 2015, 2024)
    return {
        "AchievementAwardDate": awarded.isoformat(),
        "AchievementProviderName": provider,
        "AchievementProviderUkprn": provider_ukprn,
        "AwardingOrganisationName": organisation,
        "AwardingOrganisationUkprn": organisation_ukprn,
        "Credits": credits,
        "DateLoaded": _loaded(rng, awarded),
        "Grade": rng.choice(("Pass", "Pass", "Merit", "Distinction")),
        "LanguageForAssessment": "English",
        "Level": level,
        "QualificationType": qualification_type,
        "Restriction": "0",
        "Source": "AO",
        "Status": "F",
        "Subject": subject,
        "SubjectCode": code,
        "UnderDataChallenge": "N",
    }


def _npd_event(rng: random.Random) -> dict[str, Any]:
    subject, code = rng.choice(_NPD_SUBJECTS)
    provider, provider_ukprn = rng.choice(_PROVIDERS)
    awarded = dt.date(rng.randint(2012, 2022), 8, rng.randint(18, 25))
    return {
        "AchievementAwardDate": awarded.isoformat(),
        "AchievementProviderName": provider,
        "AchievementProviderUkprn": provider_ukprn,
        "AwardingOrganisationName": rng.choice(("AQA", "Pearson Education Ltd", "OCR", "WJEC-CBAC")),
        "CollectionType": "A",
        "Credits": 0,
        "DateLoaded": _loaded(rng, awarded),
        "Grade": str(rng.randint(3, 9)),
        "Level": None,
        "QualificationType": "GCSE (9 to 1)",
        "Restriction": "0",
        "ReturnNumber": "01",
        "Source": "NPD",
        "Status": "F",
        "Subject": subject,
        "SubjectCode": code,
        "UnderDataChallenge": "N",
    }


def generated_events(uln: str) -> list[dict[str, Any]]:
    """0-6 learning events for any ULN, the same every time (a PRNG seeded with the ULN)."""
    rng = random.Random(int(uln))
    count = rng.choices(range(7), weights=(2, 3, 4, 4, 3, 2, 1))[0]
    makers = rng.choices((_ilr_event, _ao_event, _npd_event), weights=(4, 4, 2), k=count)
    ids = rng.sample(range(1_000_000, 99_999_999), count)
    return [{**make(rng), "ID": event_id} for make, event_id in zip(makers, ids, strict=True)]


def _test_events(uln: str) -> list[dict[str, Any]]:
    rng = random.Random(int(uln))
    if uln == EXACT_WITH_EVENTS:
        events = [_ilr_event(rng), _ao_event(rng), _npd_event(rng)]
    elif uln == LINKED_MASTER:
        events = [_ao_event(rng), _ilr_event(rng)]
    elif uln == SLOW:
        events = [_ao_event(rng)]
    else:
        events = []
    return [{**event, "ID": int(uln[-4:]) * 100 + index} for index, event in enumerate(events, start=1)]


_TEST_RECORDS = {EXACT_WITH_EVENTS, EXACT_NO_EVENTS, LINKED, LINKED_MASTER, NOT_SHARED, SLOW}

urlpatterns = [path("LearnerServiceR9.svc", learner_service, name="lrs_emulator")]
