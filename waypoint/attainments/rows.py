"""Pure rules of the Attainments (PLR) grid: which learners can be asked about (R-PLR-3), the rows an answer
becomes (R-PLR-4), and the attainment a row records (R-PLR-6). No database here."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from waypoint.attainments.lrs.types import ERROR_DESCRIPTIONS, RESPONSE_DESCRIPTIONS, LearnerEvents, LearnerQuery
from waypoint.core.ilr import uln_is_valid

# Our own error codes, for learners no call is made for (R-PLR-3) and for a call that broke on our side.
MISSING_ULN = "WP_MISSING_ULN"
MISSING_NAME = "WP_MISSING_NAME"
INVALID_ULN = "WP_INVALID_ULN"
CALL_FAILED = "WP_CALL_FAILED"
LOCAL_ERRORS = {
    MISSING_ULN: "The learner has no ULN: add it to the learner record to download their PLR.",
    MISSING_NAME: "The learner's first name or surname is missing: both are needed to download their PLR.",
    INVALID_ULN: "The learner's ULN is not valid (10 digits with a valid check digit): correct it to download.",
    CALL_FAILED: "The call to the Learning Records Service failed unexpectedly; try Refresh.",
}

# LearningEvent attribute → PlrRow column, in the service's order.
EVENT_FIELDS: tuple[str, ...] = (
    "achievement_award_date",
    "achievement_provider_name",
    "achievement_provider_ukprn",
    "awarding_organisation_name",
    "awarding_organisation_ukprn",
    "collection_type",
    "credits",
    "date_loaded",
    "grade",
    "language_for_assessment",
    "level",
    "participation_end_date",
    "participation_start_date",
    "qualification_type",
    "restriction",
    "return_number",
    "source",
    "status",
    "subject",
    "subject_code",
    "under_data_challenge",
)
GENDER_OF_SEX = {"M": "1", "F": "2"}


@dataclass(frozen=True)
class LearnerIdentity:
    """A selected learner as the download reads it."""

    learner_id: int
    uln: str
    first_name: str
    surname: str
    date_of_birth: dt.date | None = None
    sex: str = ""


def local_error(learner: LearnerIdentity) -> str | None:
    """The local error code of a learner the service cannot be asked about (R-PLR-3), or None."""
    if not learner.uln.strip():
        return MISSING_ULN
    if not learner.first_name.strip() or not learner.surname.strip():
        return MISSING_NAME
    if not uln_is_valid(learner.uln):
        return INVALID_ULN
    return None


def learner_query(learner: LearnerIdentity) -> LearnerQuery:
    return LearnerQuery(
        uln=learner.uln,
        given_name=learner.first_name.strip(),
        family_name=learner.surname.strip(),
        date_of_birth=learner.date_of_birth,
        gender=GENDER_OF_SEX.get(learner.sex, "0"),
    )


def _identity(learner: LearnerIdentity) -> dict[str, Any]:
    return {
        "learner_id": learner.learner_id,
        "uln": learner.uln[:10],
        "first_name": learner.first_name,
        "surname": learner.surname,
    }


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def error_row(learner: LearnerIdentity, code: str, description: str | None = None) -> dict[str, Any]:
    return {**_identity(learner), "error_code": code, "error_description": description or LOCAL_ERRORS[code]}


def answer_rows(learner: LearnerIdentity, answer: LearnerEvents) -> list[dict[str, Any]]:
    """The grid rows of one answer: one per learning event, or one saying why there are none (R-PLR-4)."""
    codes = {
        "found_uln": _text(answer.found_uln, 10),
        "error_code": _text(answer.error_code, 20),
        "error_description": _text(answer.error_description or ERROR_DESCRIPTIONS.get(answer.error_code, ""), 500),
        "response_code": _text(answer.response_code, 20),
        "response_description": _text(
            answer.response_description or RESPONSE_DESCRIPTIONS.get(answer.response_code, ""), 500
        ),
    }
    if not answer.events:
        return [{**_identity(learner), **codes}]
    rows = []
    for event in answer.events:
        values: dict[str, Any] = {"lrs_event_id": event.id}
        for name in EVENT_FIELDS:
            value = getattr(event, name)
            values[name] = value if name == "credits" else _text(value, _LIMITS.get(name, 50))
        rows.append({**_identity(learner), **codes, **values})
    return rows


_LIMITS = {
    "achievement_award_date": 40,
    "date_loaded": 40,
    "participation_end_date": 40,
    "participation_start_date": 40,
    "achievement_provider_name": 255,
    "awarding_organisation_name": 255,
    "subject": 255,
    "achievement_provider_ukprn": 20,
    "awarding_organisation_ukprn": 20,
    "qualification_type": 100,
    "level": 30,
    "subject_code": 30,
}


def parse_date(text: str) -> dt.date | None:
    """A date the service sent (`2019-07-31`, `2019-07-31T00:00:00`, …), or None when it is not one."""
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


# Attainment field → how it is worked out from a grid row's values.
ATTAINMENT_FIELDS: tuple[str, ...] = (
    "attainment_type",
    "uln",
    "subject",
    "subject_code",
    "qualification_type",
    "level",
    "grade",
    "credits",
    "award_date",
    "awarding_organisation_name",
    "awarding_organisation_ukprn",
    "provider_name",
    "provider_ukprn",
    "source",
    "status",
    "participation_start_date",
    "participation_end_date",
    "date_loaded",
    "collection_type",
    "return_number",
    "language_for_assessment",
    "restriction",
    "under_data_challenge",
)


def attainment_values(row: dict[str, Any], attainment_type: str) -> dict[str, Any]:
    """What an attainment written from this grid row holds (R-PLR-6); the same row always gives the same values."""
    return {
        "attainment_type": attainment_type,
        "uln": row["found_uln"] or row["uln"],
        "subject": row["subject"],
        "subject_code": row["subject_code"],
        "qualification_type": row["qualification_type"],
        "level": row["level"],
        "grade": row["grade"],
        "credits": row["credits"],
        "award_date": parse_date(row["achievement_award_date"]),
        "awarding_organisation_name": row["awarding_organisation_name"],
        "awarding_organisation_ukprn": row["awarding_organisation_ukprn"],
        "provider_name": row["achievement_provider_name"],
        "provider_ukprn": row["achievement_provider_ukprn"],
        "source": row["source"],
        "status": row["status"],
        "participation_start_date": parse_date(row["participation_start_date"]),
        "participation_end_date": parse_date(row["participation_end_date"]),
        "date_loaded": parse_date(row["date_loaded"]),
        "collection_type": row["collection_type"],
        "return_number": row["return_number"],
        "language_for_assessment": row["language_for_assessment"],
        "restriction": row["restriction"],
        "under_data_challenge": row["under_data_challenge"],
    }


ROW_VALUE_FIELDS: tuple[str, ...] = (
    "learner_id",
    "uln",
    "found_uln",
    "lrs_event_id",
    *EVENT_FIELDS,
)


@dataclass(frozen=True)
class UpdateResult:
    """What Update Selected did (R-PLR-6): processed = updated + unchanged + skipped (rows with no event)."""

    processed: int
    updated: int
    unchanged: int
    skipped: int
