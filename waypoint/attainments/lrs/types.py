"""What the LRS client returns: plain frozen values, never zeep objects or SOAP faults."""

import datetime as dt
from dataclasses import dataclass

# In-band response codes of GetLearnerLearningEvents (HTTP 200).
EXACT_MATCH = "WSRC0004"
LINKED_LEARNER = "WSRC0022"
NOT_SHARED = "WSEC0206"
NOT_VERIFIED = "WSEC0208"
RESPONSE_DESCRIPTIONS = {
    EXACT_MATCH: "Exact match: the learner was verified and their learning events returned.",
    LINKED_LEARNER: "Linked learner: the master record was substituted, and its learning events returned.",
    NOT_SHARED: "The learner has not agreed to share their data: no learning events are returned.",
    NOT_VERIFIED: "The learner could not be verified (the ULN and names do not match): no learning events.",
}

# Error codes: the service's SOAP faults, and our own for what never reached, or came back broken from, it.
ERROR_DESCRIPTIONS = {
    "WSEC0001": "Invalid request: the service rejected the request's content.",
    "WSEC0002": "Unknown request: the service does not support this operation.",
    "WSEC0003": "Unknown organisation: the UKPRN or organisation is not recognised or not authorised.",
    "WSEC0004": "Out of hours: the service is not available at this time.",
    "WSEC0005": "Incorrect password for the organisation.",
    "WSEC0006": "Insufficient access: the organisation may not use this web service.",
    "LRS_UNAVAILABLE": "The Learning Records Service could not be reached or did not answer in time.",
    "LRS_MALFORMED": "The Learning Records Service sent an answer that could not be read.",
    "LRS_FAULT": "The Learning Records Service reported an error.",
}

GENDERS = {"0": "Not known", "1": "Male", "2": "Female", "9": "Not specified"}


@dataclass(frozen=True)
class LearnerQuery:
    """One learner to ask the service about (one call each)."""

    uln: str
    given_name: str
    family_name: str
    date_of_birth: dt.date | None = None
    gender: str = "0"  # a key of GENDERS


@dataclass(frozen=True)
class LearningEvent:
    """One learning event (attainment) of the learner's Personal Learning Record; the service's 22 fields."""

    id: int | None
    achievement_award_date: str | None = None
    achievement_provider_name: str | None = None
    achievement_provider_ukprn: str | None = None
    awarding_organisation_name: str | None = None
    awarding_organisation_ukprn: str | None = None
    collection_type: str | None = None
    credits: int | None = None
    date_loaded: str | None = None
    grade: str | None = None
    language_for_assessment: str | None = None
    level: str | None = None
    participation_end_date: str | None = None
    participation_start_date: str | None = None
    qualification_type: str | None = None
    restriction: str | None = None
    return_number: str | None = None
    source: str | None = None
    status: str | None = None
    subject: str | None = None
    subject_code: str | None = None
    under_data_challenge: str | None = None


@dataclass(frozen=True)
class LearnerEvents:
    """The service's answer for one learner, or why there is none.

    Exactly one of `response_code` (the service answered) and `error_code` (a fault, or no usable answer) is set.
    """

    incoming_uln: str
    found_uln: str = ""
    response_code: str = ""
    response_description: str = ""
    error_code: str = ""
    error_description: str = ""
    events: tuple[LearningEvent, ...] = ()
