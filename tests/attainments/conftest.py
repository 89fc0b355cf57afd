"""PLR tests: an installation with the LRS configured, and a fake LRS that records how it is called."""

import threading
import time
from collections.abc import Callable

import pytest

from waypoint.attainments.lrs.types import EXACT_MATCH, LearnerEvents, LearnerQuery, LearningEvent


@pytest.fixture
def lrs_on(settings: pytest.FixtureRequest) -> None:
    settings.WAYPOINT_LRS_URL = "http://lrs.invalid/LearnerServiceR9.svc"  # type: ignore[attr-defined]
    settings.WAYPOINT_LRS_UKPRN = "10000001"  # type: ignore[attr-defined]
    settings.WAYPOINT_LRS_USERNAME = "waypoint"  # type: ignore[attr-defined]
    settings.WAYPOINT_LRS_PASSWORD = "secret"  # type: ignore[attr-defined]
    settings.WAYPOINT_LRS_VENDOR_ID = 3  # type: ignore[attr-defined]


def event(uln: str, n: int, **values: object) -> LearningEvent:
    fields: dict[str, object] = {
        "achievement_award_date": "2023-07-3" + str(n % 2),
        "awarding_organisation_name": "Pearson",
        "awarding_organisation_ukprn": "10004961",
        "achievement_provider_name": "Leeds College",
        "achievement_provider_ukprn": "10003955",
        "credits": 10 + n,
        "date_loaded": "2023-09-01T00:00:00",
        "grade": "Pass",
        "level": "3",
        "participation_start_date": "2022-09-01",
        "participation_end_date": "2023-07-01",
        "qualification_type": "BTEC National Diploma",
        "source": "ILR",
        "status": "F",
        "subject": f"Subject {n} of {uln}",
        "subject_code": f"6001234{n}",
    }
    fields.update(values)
    return LearningEvent(id=int(uln[:8]) * 10 + n, **fields)  # type: ignore[arg-type]


def exact_match(query: LearnerQuery, events: int = 2) -> LearnerEvents:
    return LearnerEvents(
        incoming_uln=query.uln,
        found_uln=query.uln,
        response_code=EXACT_MATCH,
        events=tuple(event(query.uln, n) for n in range(events)),
    )


class FakeLrs:
    """Answers every learner with `answer` (two events by default), after `delay` seconds; records the calls and
    the most calls under way at once."""

    def __init__(self, answer: Callable[[LearnerQuery], LearnerEvents] = exact_match, *, delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.calls: list[LearnerQuery] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def learner_events(self, query: LearnerQuery) -> LearnerEvents:
        with self._lock:
            self.calls.append(query)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.delay:
                time.sleep(self.delay)
            return self.answer(query)
        finally:
            with self._lock:
                self.active -= 1

    @property
    def ulns(self) -> list[str]:
        return sorted(q.uln for q in self.calls)
