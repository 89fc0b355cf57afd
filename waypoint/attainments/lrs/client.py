"""The Learning Records Service client: one GetLearnerLearningEvents call per learner, over zeep.

Everything the service can answer — a response code, a SOAP fault, an HTTP error, a timeout, a broken
answer — comes back as a `LearnerEvents` value; no zeep object, fault or `requests` error leaves this module.

Threads: one `LrsClient` may be shared by a pool of threads. The zeep `Client` (the parsed WSDL, read-only
after loading) is built once per `LrsClient` and shared; each thread gets its own `requests.Session` (a
session's connection pool and cookie jar are not documented as thread-safe), through `_PerThreadTransport`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from lxml import etree
from zeep import Client, Settings
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport

from waypoint.core.errors import ApplicationError

from .types import ERROR_DESCRIPTIONS, RESPONSE_DESCRIPTIONS, LearnerEvents, LearnerQuery, LearningEvent

logger = logging.getLogger(__name__)

BINDING = "{http://tempuri.org/}BasicHttpBinding_ILearnerServiceR9"
FAULTS_NS = "http://api.lrs.qcf.gov.uk/faults"
EXCEPTIONS_NS = "http://api.lrs.miap.gov.uk/exceptions"
LANGUAGE = "ENG"
GET_TYPE = "FULL"
UNAVAILABLE = "LRS_UNAVAILABLE"
MALFORMED = "LRS_MALFORMED"
FAULT = "LRS_FAULT"

# LearningEvent element → LearningEvent field; ID and Credits are numbers, the rest text.
EVENT_FIELDS = {
    "AchievementAwardDate": "achievement_award_date",
    "AchievementProviderName": "achievement_provider_name",
    "AchievementProviderUkprn": "achievement_provider_ukprn",
    "AwardingOrganisationName": "awarding_organisation_name",
    "AwardingOrganisationUkprn": "awarding_organisation_ukprn",
    "CollectionType": "collection_type",
    "Credits": "credits",
    "DateLoaded": "date_loaded",
    "Grade": "grade",
    "ID": "id",
    "LanguageForAssessment": "language_for_assessment",
    "Level": "level",
    "ParticipationEndDate": "participation_end_date",
    "ParticipationStartDate": "participation_start_date",
    "QualificationType": "qualification_type",
    "Restriction": "restriction",
    "ReturnNumber": "return_number",
    "Source": "source",
    "Status": "status",
    "Subject": "subject",
    "SubjectCode": "subject_code",
    "UnderDataChallenge": "under_data_challenge",
}
NUMBER_FIELDS = {"ID", "Credits"}


class LrsNotConfigured(ApplicationError):
    code = "lrs_not_configured"
    status = 409

    def __init__(self, message: str = "The Learning Records Service connection is not configured.") -> None:
        super().__init__(message)


def lrs_configured() -> bool:
    """Whether the installation has what a call needs: endpoint, UKPRN, username, password and vendor id."""
    return bool(
        settings.WAYPOINT_LRS_URL
        and settings.WAYPOINT_LRS_UKPRN
        and settings.WAYPOINT_LRS_USERNAME
        and settings.WAYPOINT_LRS_PASSWORD
        and settings.WAYPOINT_LRS_VENDOR_ID
    )


def lrs_client() -> LrsClient:
    """A client built from settings; raises `LrsNotConfigured` when the connection is not configured."""
    if not lrs_configured():
        raise LrsNotConfigured()
    return LrsClient(
        url=settings.WAYPOINT_LRS_URL,
        ukprn=settings.WAYPOINT_LRS_UKPRN,
        username=settings.WAYPOINT_LRS_USERNAME,
        password=settings.WAYPOINT_LRS_PASSWORD,
        vendor_id=settings.WAYPOINT_LRS_VENDOR_ID,
        user_type=settings.WAYPOINT_LRS_USER_TYPE,
        timeout=settings.WAYPOINT_LRS_TIMEOUT,
        cert_file=settings.WAYPOINT_LRS_CERT_FILE,
        key_file=settings.WAYPOINT_LRS_KEY_FILE,
        wsdl=settings.WAYPOINT_LRS_WSDL,
    )


class _PerThreadTransport(Transport):
    """zeep's transport with one `requests.Session` per thread (zeep reads `self.session` on every call)."""

    def __init__(self, *, timeout: float, cert: str | tuple[str, str] | None) -> None:
        self._local = threading.local()
        self._cert = cert
        super().__init__(timeout=timeout, operation_timeout=timeout, session=self._new_session())

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.verify = True
        if self._cert:
            session.cert = self._cert
        return session

    @property
    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._new_session()
            self._local.session = session
        return session

    @session.setter
    def session(self, value: requests.Session) -> None:
        self._local.session = value


class LrsClient:
    def __init__(
        self,
        *,
        url: str,
        ukprn: str,
        username: str,
        password: str,
        vendor_id: int,
        user_type: str = "ORG",
        timeout: float = 20.0,
        cert_file: str = "",
        key_file: str = "",
        wsdl: str | Path | None = None,
    ) -> None:
        self.url = url
        self.ukprn = ukprn
        self.username = username
        self._password = password
        self.vendor_id = vendor_id
        self.user_type = user_type
        self.timeout = timeout
        cert: str | tuple[str, str] | None = (cert_file, key_file) if cert_file and key_file else cert_file or None
        self._transport = _PerThreadTransport(timeout=timeout, cert=cert)
        # The WSDL is read from the vendored file, never fetched; its soap:address is replaced by `url`.
        self._zeep = Client(
            str(wsdl or Path(__file__).with_name("LearnerServiceR9.wsdl")),
            transport=self._transport,
            settings=Settings(strict=True, xml_huge_tree=False),
        )
        self._service = self._zeep.create_service(BINDING, url)

    def __repr__(self) -> str:
        return f"<LrsClient {self.url} ukprn={self.ukprn}>"

    def learner_events(self, query: LearnerQuery) -> LearnerEvents:
        """One GetLearnerLearningEvents call; never raises for anything the service or the network does."""
        try:
            result = self._service.GetLearnerLearningEvents(
                invokingOrganisation={
                    "OrganisationRef": self.ukprn,
                    "Password": self._password,
                    "Ukprn": self.ukprn,
                    "Username": self.username,
                },
                userType=self.user_type,
                vendorID=self.vendor_id,
                language=LANGUAGE,
                uln=query.uln,
                givenName=query.given_name,
                familyName=query.family_name,
                dateOfBirth=query.date_of_birth.isoformat() if query.date_of_birth else "",
                gender=query.gender,
                getType=GET_TYPE,
            )
        except Fault as fault:
            return _from_fault(query.uln, fault)
        except TransportError as exc:
            # zeep raises TransportError for a non-200 answer without a body, and for any answer that is not XML.
            if exc.status_code == 200:
                return _error(query.uln, MALFORMED, detail=f"not XML: {exc.message[:200]}")
            return _error(query.uln, UNAVAILABLE, detail=f"HTTP {exc.status_code}")
        except requests.RequestException as exc:  # connection refused, DNS, TLS, timeouts
            return _error(query.uln, UNAVAILABLE, detail=type(exc).__name__)
        except (ZeepError, etree.LxmlError, ValueError, TypeError, AttributeError) as exc:
            return _error(query.uln, MALFORMED, detail=f"{type(exc).__name__}: {str(exc)[:200]}")
        try:
            return _from_result(query.uln, result)
        except (ValueError, TypeError, AttributeError) as exc:
            return _error(query.uln, MALFORMED, detail=f"{type(exc).__name__}: {str(exc)[:200]}")


def _error(uln: str, code: str, *, detail: str, description: str = "") -> LearnerEvents:
    logger.warning("LRS call for ULN %s failed: %s (%s)", uln, code, detail)
    return LearnerEvents(
        incoming_uln=uln, error_code=code, error_description=description or ERROR_DESCRIPTIONS.get(code, code)
    )


def _from_fault(uln: str, fault: Fault) -> LearnerEvents:
    detail = fault.detail
    if fault.code is None and not isinstance(detail, etree._Element):
        # zeep's "Unknown fault": an HTTP error status whose body is XML but not a SOAP fault.
        return _error(uln, UNAVAILABLE, detail="HTTP error without a SOAP fault")
    code, own_text = _fault_code_and_text(detail)
    text = own_text or (fault.message or "").strip()
    if not code:
        description = ERROR_DESCRIPTIONS[FAULT] + (f" ({text})" if text else "")
        return _error(uln, FAULT, detail=text, description=description)
    return _error(uln, code, detail=text, description=ERROR_DESCRIPTIONS.get(code) or text or code)


def _fault_code_and_text(detail: Any) -> tuple[str, str]:
    """ErrorCode and the fault's own text from a DomainFault or a MIAPAPIException detail."""
    if not isinstance(detail, etree._Element):
        return "", ""
    for element in detail:
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        if (qname.namespace, qname.localname) not in ((FAULTS_NS, "DomainFault"), (EXCEPTIONS_NS, "MIAPAPIException")):
            continue
        # The children are qualified in DomainFault and unqualified in real MIAPAPIException samples.
        children = {
            etree.QName(child).localname: (child.text or "").strip() for child in element if isinstance(child.tag, str)
        }
        code = children.get("ErrorCode", "")
        if qname.localname == "DomainFault":
            return code, _decode_error_detail(children.get("ErrorDetail", ""))
        return code, children.get("Description", "") or children.get("FurtherDetails", "")
    return "", ""


def _decode_error_detail(value: str) -> str:
    """DomainFault's ErrorDetail is base64Binary; decode it when it is text, else keep nothing."""
    if not value:
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8").strip()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _from_result(uln: str, result: Any) -> LearnerEvents:
    code = getattr(result, "ResponseCode", None) if result is not None else None
    if not code:
        return _error(uln, MALFORMED, detail="no ResponseCode in the answer")
    record = getattr(result, "LearnerRecord", None)
    raw_events = (getattr(record, "LearningEvent", None) or []) if record is not None else []
    return LearnerEvents(
        incoming_uln=getattr(result, "IncomingULN", None) or uln,
        found_uln=getattr(result, "FoundULN", None) or "",
        response_code=str(code),
        response_description=RESPONSE_DESCRIPTIONS.get(str(code), str(code)),
        events=tuple(_event(raw) for raw in raw_events if raw is not None),
    )


def _event(raw: Any) -> LearningEvent:
    values: dict[str, Any] = {}
    for element, field in EVENT_FIELDS.items():
        value = getattr(raw, element, None)
        if value is None:
            values[field] = None
        elif element in NUMBER_FIELDS:
            values[field] = int(value)
        else:
            values[field] = str(value)
    return LearningEvent(**values)
