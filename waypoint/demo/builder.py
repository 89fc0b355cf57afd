"""Build a believable training provider at any size, set-based.

The number of SQL statements does not depend on the number of learners: people are written with
one `executemany` per table, plans with `plans_create_for` (one INSERT … SELECT), and progress,
reviews, calendar tasks and journal entries with a fixed handful of UPDATE and INSERT … SELECT
statements that derive their "randomness" from each learner's (seeded, random) ULN.
"""

import datetime as dt
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from waypoint.core.ilr import Ethnicity, uln_check_digit
from waypoint.curriculum.models import Assignment, Curriculum, Milestone, ProgramEnrolment, Session
from waypoint.demo import names
from waypoint.demo.catalogue import PROGRAMMES, ProgrammeSpec, templates_for
from waypoint.demo.curriculum import learning_plans_build
from waypoint.demo.staff import DEMO_PASSWORD, DEMO_PROFESSIONALS, DEMO_STAFF, LIMITED_REGIONS, TUTORS, USERNAMES
from waypoint.epa.models import EpaConnection, EpaRegistration
from waypoint.people.models import Employer, Group, Learner, Manager, StaffProfile
from waypoint.plans.models import CalendarTask, Component, ComponentChange, Review
from waypoint.plans.services import plans_create_for
from waypoint.programmes.models import ComponentTemplate, Enrolment, Programme, ProgrammeStatus

DEFAULT_LEARNERS = 300

# The demo's EPA platform is the emulator `make run` mounts (WAYPOINT_EMULATORS), reached at its own address.
EPA_DEMO_URL = f"http://{os.environ.get('WAYPOINT_ADDRESS', '127.0.0.1:8000')}/emulators/epa"
EPA_DEMO_TOKEN = "WAYPOINT_EPA_DEMO_TOKEN"
EPA_DEMO_CONNECTED = ("EPA0001", "EPA0015")  # EPA0042's programmes stay unconnected: registered manually

# Share of learners in each programme status; the first learners take one of each so every status appears.
STATUS_WEIGHTS: tuple[tuple[ProgrammeStatus, float], ...] = (
    (ProgrammeStatus.ACTIVE, 0.70),
    (ProgrammeStatus.BREAK_IN_LEARNING, 0.05),
    (ProgrammeStatus.COMPLETED, 0.09),
    (ProgrammeStatus.WITHDRAWN, 0.06),
    (ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME, 0.02),
    (ProgrammeStatus.EXPIRED, 0.02),
    (ProgrammeStatus.CANCELLED, 0.02),
    (ProgrammeStatus.ARCHIVED, 0.04),
)

ETHNICITY_WEIGHTS: dict[int, float] = {e.value: 1.0 for e in Ethnicity} | {
    Ethnicity.WHITE_BRITISH.value: 60.0,
    Ethnicity.WHITE_OTHER.value: 5.0,
    Ethnicity.INDIAN.value: 4.0,
    Ethnicity.PAKISTANI.value: 4.0,
    Ethnicity.AFRICAN.value: 3.0,
    Ethnicity.NOT_PROVIDED.value: 2.0,
}


class DemoRefused(Exception):
    """The database already holds data the demo would mix with."""


@dataclass
class BuildReport:
    learners: int
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    steps: list[tuple[str, float]] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def demo_build(
    *,
    learners: int = DEFAULT_LEARNERS,
    seed: int = 1,
    reset: bool = False,
    today: dt.date | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> BuildReport:
    """Create the demo provider with `learners` learners in one transaction."""
    if learners < 1:
        raise ValueError("The demo needs at least one learner.")
    build = _Build(learners=learners, seed=seed, today=today or timezone.localdate(), log=log)
    return build.run(reset=reset)


def demo_refusal() -> str | None:
    """Why the demo may not be built into this database without --reset, or None."""
    existing = Learner.objects.count()
    if existing:
        return (
            f"The database already has {existing:,} learners. Run with --reset to delete them (and every "
            "programme, employer, group and plan) first, or point DATABASE_URL at an empty database."
        )
    if Programme.objects.exists() or get_user_model().objects.filter(username__in=USERNAMES).exists():
        return "The database already has programmes or demo logins. Run with --reset to replace them."
    return None


def demo_delete() -> None:
    """Delete every row of Waypoint's own tables and the demo logins, set-based (children first)."""
    tables = [m._meta.db_table for m in _waypoint_models_children_first()]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # TRUNCATE refuses tables with foreign-key checks still pending from earlier writes in the
            # same transaction: run those checks now, then defer again as Django's constraints expect.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(_q(t) for t in tables)} RESTART IDENTITY")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {_q(table)}")
        get_user_model().objects.filter(username__in=USERNAMES).delete()


class _Build:
    def __init__(self, *, learners: int, seed: int, today: dt.date, log: Callable[[str], None]) -> None:
        self.n = learners
        self.rng = random.Random(seed)
        self.today = today
        self.log = log
        self.now = timezone.now()
        self.now_db = connection.ops.adapt_datetimefield_value(self.now)
        self.report = BuildReport(learners=learners)
        self._step_started = 0.0
        self._label = ""

    # --- orchestration -----------------------------------------------------------------------------

    def run(self, *, reset: bool) -> BuildReport:
        started = time.perf_counter()
        if reset and connection.vendor == "sqlite" and not connection.in_atomic_block:
            # Outside a transaction SQLite can switch foreign-key checks off, and then it empties a
            # table at once instead of row by row (its truncate optimisation): seconds instead of a minute.
            self._step("deleting existing data")
            with connection.constraint_checks_disabled():
                demo_delete()
            self._done()
            reset = False
        with transaction.atomic():
            self._tune_connection()
            if reset:
                self._step("deleting existing data")
                demo_delete()
                self._done()
            refusal = demo_refusal()
            if refusal:
                raise DemoRefused(refusal)
            self._step("groups and staff")
            self._groups()
            self._staff()
            self._done()
            self._step("programmes and templates")
            self._programmes()
            self._done()
            self._step("employers and managers")
            self._employers()
            self._done()
            self._step(f"{self.n:,} learners")
            self._learners()
            self._done()
            self._step("enrolments")
            self._enrolments()
            self._done()
            self._step("learning plans (INSERT … SELECT)")
            self._analyze(Learner, Enrolment, ComponentTemplate)
            plans_create_for(Enrolment.objects.all())
            self._analyze(Component, Review)
            self._done()
            self._step("component progress")
            self._progress()
            self._done()
            self._step("reviews and calendar tasks")
            self._reviews()
            self._done()
            self._step("journal, removed and hand-added components")
            self._journal()
            self._done()
            self._step("EPA platform connections and registrations")
            self._epa()
            self._done()
            self._step("learning plans for professionals")
            learning_plans_build(
                today=self.today, now=self.now, user_ids=self.user_ids, by_id=self.user_ids["supervisor"]
            )
            self._done()
            self._count()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _step(self, label: str) -> None:
        self._label = label
        self._step_started = time.perf_counter()

    def _done(self) -> None:
        seconds = time.perf_counter() - self._step_started
        self.report.steps.append((self._label, seconds))
        self.log(f"  {self._label:<45} {seconds:7.2f} s")

    def _tune_connection(self) -> None:
        if connection.vendor == "sqlite":
            # A larger page cache (2 GB) keeps the component table and its indexes in memory while a million
            # rows go in; the default spills to the write-ahead log and makes the status UPDATE three times slower.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -2000000")

    def _analyze(self, *tables: type[models.Model]) -> None:
        if connection.vendor == "postgresql":
            # Fresh statistics, so the planner knows the tables just filled are no longer empty
            # (without them the journal INSERT … SELECT took minutes instead of seconds).
            with connection.cursor() as cursor:
                for model in tables:
                    cursor.execute(f"ANALYZE {_q(model._meta.db_table)}")

    # --- people and programmes ---------------------------------------------------------------------

    def _groups(self) -> None:
        self.cohorts = [self._cohort_name(self.today.year - y, m) for y in range(3, -1, -1) for m in (1, 4, 9)]
        rows = [Group(name=region) for region in names.REGIONS] + [Group(name=c) for c in self.cohorts]
        Group.objects.bulk_create(rows)
        self.group_ids = dict(Group.objects.values_list("name", "id"))

    @staticmethod
    def _cohort_name(year: int, month: int) -> str:
        return f"Cohort {dt.date(year, month, 1):%B %Y}"

    def _staff(self) -> None:
        """The staff logins with their profiles, and the professionals' logins (which have none)."""
        User = get_user_model()
        password = make_password(DEMO_PASSWORD)  # hashed once: the same demo password for every login
        logins = [(s.username, s.first_name, s.last_name) for s in DEMO_STAFF]
        logins += [(p.username, p.first_name, p.last_name) for p in DEMO_PROFESSIONALS]
        User.objects.bulk_create(
            User(
                username=username,
                first_name=first_name,
                last_name=last_name,
                email=f"{username.replace('.', '-')}@provider.example.com",
                password=password,
                is_active=True,
            )
            for username, first_name, last_name in logins
        )
        self.user_ids: dict[str, int] = dict(User.objects.filter(username__in=USERNAMES).values_list("username", "id"))
        StaffProfile.objects.bulk_create(
            StaffProfile(
                user_id=self.user_ids[s.username],
                job_title=s.job_title,
                permissions=[p.value for p in s.perms],
                all_groups=s.all_groups,
                is_tutor=s.is_tutor,
            )
            for s in DEMO_STAFF
        )
        profiles = dict(StaffProfile.objects.filter(user_id__in=self.user_ids.values()).values_list("user_id", "id"))
        Through = StaffProfile.groups.through
        Through.objects.bulk_create(
            Through(staffprofile_id=profiles[self.user_ids[s.username]], group_id=self.group_ids[g])
            for s in DEMO_STAFF
            for g in s.groups
        )

    def _programmes(self) -> None:
        self.specs: dict[int, ProgrammeSpec] = {}
        self.top: list[tuple[ProgrammeSpec, int, list[int]]] = []  # spec, programme id, sub-programme ids
        parents = Programme.objects.bulk_create(self._programme(spec) for spec in PROGRAMMES)
        subs: list[Programme] = []
        for spec, parent in zip(PROGRAMMES, parents, strict=True):
            subs += [self._programme(sub, parent=parent) for sub in spec.sub_programmes]
        Programme.objects.bulk_create(subs)
        ids = dict(Programme.objects.values_list("code", "id"))
        for spec in PROGRAMMES:
            self.specs[ids[spec.code]] = spec
            self.top.append((spec, ids[spec.code], [ids[s.code] for s in spec.sub_programmes]))
            for sub in spec.sub_programmes:
                self.specs[ids[sub.code]] = sub
        ComponentTemplate.objects.bulk_create(
            ComponentTemplate(programme_id=programme_id, **values)
            for programme_id, spec in self.specs.items()
            for values in templates_for(spec)
        )

    @staticmethod
    def _programme(spec: ProgrammeSpec, parent: Programme | None = None) -> Programme:
        return Programme(
            name=spec.name,
            code=spec.code,
            parent=parent,
            standard_code=spec.standard_code,
            epao_id=spec.epao_id,
            criteria=list(spec.criteria),
        )

    def _employers(self) -> None:
        rng = self.rng
        count = max(6, self.n // 40)
        seen: set[str] = set()
        employers: list[tuple[Any, ...]] = []
        self.employer_region: list[str] = []
        while len(employers) < count:
            town, district, region = rng.choice(names.TOWNS)
            name = f"{rng.choice(names.EMPLOYER_STEMS)} {rng.choice(names.EMPLOYER_TRADES)}"
            if name in seen:
                name = f"{name} ({town})"
                if name in seen:
                    continue
            seen.add(name)
            letters = "ABDEFGHJLNPQRSTUWXYZ"
            postcode = f"{district} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
            employers.append(
                (
                    f"{name} {rng.choice(names.EMPLOYER_SUFFIXES)}",
                    f"{rng.randint(100_000_000, 999_999_999)}",
                    f"{rng.randint(1, 240)} {rng.choice(names.STREETS)}",
                    rng.choice(("", "", "Unit 4", "Suite 2", "First Floor")),
                    town,
                    postcode,
                    self.now_db,
                    self.now_db,
                )
            )
            self.employer_region.append(region)
        _insert(Employer, ("name", "edrs_number", "address_line_1", "address_line_2", "town", "postcode",
                           "created_at", "updated_at"), employers)  # fmt: skip
        self.employer_ids = _ids_in_order(Employer)
        managers: list[tuple[Any, ...]] = []
        self.manager_employer: list[int] = []
        for e, (employer_name, *_rest) in enumerate(employers):
            domain = "".join(ch for ch in employer_name.split(" (")[0].lower() if ch.isalnum())[:24] + ".example.co.uk"
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                first, surname = self._name(rng.random() < 0.5)
                managers.append(
                    (
                        self.employer_ids[e],
                        first,
                        surname,
                        f"{first}.{surname}@{domain}".lower().replace("'", ""),
                        f"0{rng.randint(1130, 2099)} {rng.randint(100000, 999999)}",
                        self.now_db,
                        self.now_db,
                    )
                )
                self.manager_employer.append(e)
        _insert(
            Manager, ("employer_id", "first_name", "surname", "email", "phone", "created_at", "updated_at"), managers
        )
        manager_ids = _ids_in_order(Manager)
        self.managers_of: list[list[int]] = [[] for _ in employers]
        for manager_id, e in zip(manager_ids, self.manager_employer, strict=True):
            self.managers_of[e].append(manager_id)

    def _name(self, female: bool) -> tuple[str, str]:
        first = self.rng.choice(names.FEMALE_FIRST_NAMES if female else names.MALE_FIRST_NAMES)
        return first, self.rng.choice(names.SURNAMES)

    def _learners(self) -> None:
        rng, n = self.rng, self.n
        ulns = _unique_ulns(rng, n)
        statuses = [s for s, _ in STATUS_WEIGHTS]
        picked = statuses + rng.choices(statuses, weights=[w for _, w in STATUS_WEIGHTS], k=max(0, n - len(statuses)))
        self.statuses: list[ProgrammeStatus] = picked[:n]
        # Bigger employers take more apprentices.
        employer_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(self.employer_ids))]
        employers = rng.choices(range(len(self.employer_ids)), weights=employer_weights, k=n)
        ethnicities = rng.choices(list(ETHNICITY_WEIGHTS), weights=list(ETHNICITY_WEIGHTS.values()), k=n)
        limited_tutor = next(self.user_ids[t.username] for t in TUTORS if t.groups)
        other_tutors = [self.user_ids[t.username] for t in TUTORS if not t.groups]
        rows: list[tuple[Any, ...]] = []
        self.learner_groups: list[list[str]] = []
        for i in range(n):
            female = rng.random() < 0.5
            first, surname = self._name(female)
            e = employers[i]
            region = self.employer_region[e]
            age_days = int((16 + min(rng.expovariate(1 / 7), 42)) * 365.25) + rng.randint(0, 364)
            tutor = limited_tutor if region in LIMITED_REGIONS and rng.random() < 0.6 else rng.choice(other_tutors)
            email = f"{first}.{surname}{i + 1}@{rng.choice(names.EMAIL_DOMAINS)}".lower().replace("'", "")
            rows.append(
                (
                    first,
                    surname,
                    _date(self.today - dt.timedelta(days=age_days)),
                    ulns[i],
                    "F" if female else "M",
                    ethnicities[i],
                    email,
                    self.employer_ids[e],
                    rng.choice(self.managers_of[e]),
                    tutor,
                    self.now_db,
                    self.now_db,
                )
            )
            self.learner_groups.append([region])
        _insert(Learner, ("first_name", "surname", "date_of_birth", "uln", "sex", "ethnicity", "email", "employer_id",
                          "manager_id", "tutor_id", "created_at", "updated_at"), rows)  # fmt: skip
        by_uln = dict(Learner.objects.values_list("uln", "id"))
        self.learner_ids = [by_uln[u] for u in ulns]

    def _enrolments(self) -> None:
        rng = self.rng
        weights = [spec.share for spec, _, _ in self.top]
        chosen = rng.choices(range(len(self.top)), weights=weights, k=self.n)
        enrolled_by = self.user_ids["supervisor"]
        rows: list[tuple[Any, ...]] = []
        group_rows: list[tuple[int, int]] = []
        for i, learner_id in enumerate(self.learner_ids):
            spec, programme_id, sub_ids = self.top[chosen[i]]
            status = self.statuses[i]
            start = self._start_date(spec, status)
            end = start + dt.timedelta(days=spec.duration_days)
            epa_start = end - dt.timedelta(days=spec.epa_days)
            for pid in (programme_id, *sub_ids):
                rows.append(
                    (learner_id, pid, status.value, _date(start), _date(end), _date(epa_start), _date(end), enrolled_by,
                     self.now_db, self.now_db)
                )  # fmt: skip
            groups = self.learner_groups[i]
            cohort = self._cohort_name(start.year, 1 if start.month < 4 else 4 if start.month < 9 else 9)
            if cohort in self.group_ids and rng.random() < 0.8:
                groups.append(cohort)
            group_rows += [(learner_id, self.group_ids[g]) for g in groups]
        columns = ("learner_id", "programme_id", "status", "start_date", "planned_end_date", "epa_period_start",
                   "epa_period_end", "enrolled_by_id", "created_at", "updated_at")  # fmt: skip
        _insert(Enrolment, columns, rows)
        Through = Learner.groups.through
        _insert(Through, ("learner_id", "group_id"), group_rows)

    def _epa(self) -> None:
        """Connections for two EPAOs (the emulator this installation mounts stands in for epaPRO), and one
        registration per programme episode: on its connection where the programme has one, manual otherwise
        (R-EPA-1). They are as the platform already knows them: nothing is queued to send."""
        connections = [
            EpaConnection(
                name=f"epaPRO · {epao}", epao_id=epao, base_url=EPA_DEMO_URL, credential_setting=EPA_DEMO_TOKEN
            )
            for epao in EPA_DEMO_CONNECTED
        ]
        EpaConnection.objects.bulk_create(connections)
        r, e, p, c = (_q(m._meta.db_table) for m in (EpaRegistration, Enrolment, Programme, EpaConnection))
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {r} (learner_id, enrolment_id, connection_id, epao_id, state, can_register, external_ref,
                                 version, created_at, updated_at)
                SELECT e.learner_id, e.id, c.id, p.epao_id,
                       CASE WHEN e.status = 'withdrawn' THEN 'withdrawn'
                            WHEN e.status = 'cancelled' THEN 'cancelled'
                            WHEN c.id IS NULL THEN 'manual' ELSE 'registered' END,
                       %s, CASE WHEN c.id IS NULL THEN '' ELSE 'EP' || e.id END, 1, %s, %s
                FROM {e} e
                JOIN {p} p ON p.id = e.programme_id AND p.parent_id IS NULL
                LEFT JOIN {c} c ON c.epao_id = p.epao_id
                ORDER BY e.id
                """,
                [False, self.now_db, self.now_db],
            )

    def _start_date(self, spec: ProgrammeSpec, status: ProgrammeStatus) -> dt.date:
        """A start date that fits the status: finished learners started long ago, cancelled ones recently."""
        d, r = spec.duration_days, self.rng.random()
        days_ago = {
            ProgrammeStatus.COMPLETED: d + 20 + r * 300,
            ProgrammeStatus.ARCHIVED: d + 200 + r * 500,
            ProgrammeStatus.EXPIRED: d + 10 + r * 200,
            ProgrammeStatus.CANCELLED: 10 + r * 50,
            ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME: 30 + r * 150,
        }.get(status, 14 + r * (d - 30))
        return self.today - dt.timedelta(days=int(days_ago))

    # --- plans: progress, reviews, journal -----------------------------------------------------------

    def _progress(self) -> None:
        """One UPDATE sets every component's status from its due date, its learner's pace and status."""
        c, e, lt = _q(Component._meta.db_table), _q(Enrolment._meta.db_table), _q(Learner._meta.db_table)
        pace = _pace("l")
        h = _mix(pace, "c.position")
        today = self.today
        # How far behind today a learner's completed work runs, by pace bucket.
        behind = [_date(today - dt.timedelta(days=d)) for d in (0, 10, 21, 35, 60)]
        # Where a learner who stopped (withdrawn, break, expired) stopped.
        stopped = [_date(today - dt.timedelta(days=d)) for d in (40, 90, 150, 210, 300)]
        soon = _date(today + dt.timedelta(days=28))
        stopped_statuses = _in(ProgrammeStatus.WITHDRAWN, ProgrammeStatus.BREAK_IN_LEARNING, ProgrammeStatus.EXPIRED)
        done_statuses = _in(ProgrammeStatus.COMPLETED, ProgrammeStatus.ARCHIVED)
        current = _in(ProgrammeStatus.ACTIVE, ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME)
        cutoff = (
            f"CASE WHEN e.status IN {stopped_statuses} "
            f"THEN CASE {pace} %% 5 WHEN 0 THEN %s WHEN 1 THEN %s WHEN 2 THEN %s WHEN 3 THEN %s ELSE %s END "
            f"ELSE CASE {pace} %% 5 WHEN 0 THEN %s WHEN 1 THEN %s WHEN 2 THEN %s WHEN 3 THEN %s ELSE %s END END"
        )
        new_status = f"""CASE
                    WHEN e.status IN {done_statuses} THEN 'completed'
                    WHEN e.status = 'cancelled' THEN 'not_started'
                    WHEN c.due_date < ({cutoff}) THEN CASE
                        WHEN {h} < 880 THEN 'completed' WHEN {h} < 930 THEN 'awaiting_marking'
                        WHEN {h} < 955 THEN 'referred' ELSE 'in_progress' END
                    WHEN c.due_date < %s AND e.status IN {current} THEN CASE
                        WHEN {h} < 300 THEN 'in_progress' WHEN {h} < 360 THEN 'awaiting_marking'
                        ELSE 'not_started' END
                    ELSE 'not_started' END"""
        new_status_params = [*stopped, *behind, soon]
        with connection.cursor() as cursor:
            # Rows that stay Not Started are left alone: on PostgreSQL every updated row is a new row version.
            cursor.execute(
                f"""
                UPDATE {c} AS c SET status = {new_status}
                FROM {e} AS e, {lt} AS l
                WHERE e.id = c.enrolment_id AND l.id = c.learner_id
                  AND (c.due_date < %s OR e.status IN {done_statuses})
                  AND ({new_status}) <> c.status
                """,
                [*new_status_params, soon, *new_status_params],
            )
            # Marking Aid evidence goes in with the submission.
            cursor.execute(
                f"""
                UPDATE {c} SET marking_aid_submitted = %s
                WHERE marking_aid_exercise <> '' AND status IN ('awaiting_marking', 'referred', 'completed')
                  AND (learner_id + position) %% 10 < 8
                """,
                [True],
            )

    def _reviews(self) -> None:
        """Completed reviews for completed Review components, in-progress ones for overdue open ones,
        and reviews scheduled in the coming six weeks; then their calendar tasks for learner and admin."""
        r, c, lt, task = (
            _q(Review._meta.db_table),
            _q(Component._meta.db_table),
            _q(Learner._meta.db_table),
            _q(CalendarTask._meta.db_table),
        )
        today, horizon = _date(self.today), _date(self.today + dt.timedelta(days=42))
        at = _datetime_sql("c.due_date", "9 + (c.learner_id + c.position) %% 7")
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {r} AS r SET
                    status = CASE WHEN c.status = 'completed' THEN 'completed'
                                  WHEN c.due_date <= %s THEN 'in_progress' ELSE 'scheduled' END,
                    scheduled_at = {at}
                FROM {c} AS c
                WHERE c.id = r.component_id AND (
                    c.status = 'completed'
                    OR (c.status <> 'not_started' AND c.due_date <= %s)
                    OR (c.due_date > %s AND c.due_date <= %s AND (c.learner_id + c.position) %% 3 <> 0))
                """,
                [today, today, today, horizon],
            )
            task_status = "CASE WHEN r.status = 'completed' THEN 'completed' ELSE 'open' END"
            cursor.execute(
                f"""
                INSERT INTO {task} (review_id, learner_id, admin_id, title, starts_at, status)
                SELECT r.id, c.learner_id, NULL, c.name, r.scheduled_at, {task_status}
                FROM {r} r JOIN {c} c ON c.id = r.component_id
                WHERE r.scheduled_at IS NOT NULL
                """,
                [],
            )
            cursor.execute(
                f"""
                INSERT INTO {task} (review_id, learner_id, admin_id, title, starts_at, status)
                SELECT r.id, NULL, COALESCE(c.owner_id, l.tutor_id),
                       c.name || ' with ' || l.first_name || ' ' || l.surname, r.scheduled_at, {task_status}
                FROM {r} r JOIN {c} c ON c.id = r.component_id JOIN {lt} l ON l.id = c.learner_id
                WHERE r.scheduled_at IS NOT NULL AND COALESCE(c.owner_id, l.tutor_id) IS NOT NULL
                """,
                [],
            )

    def _journal(self) -> None:
        """Some history for the journal: status changes by the coach, QA flags set by the internal verifier,
        template components removed from a few plans (R-CORE-7) and components added by hand."""
        c, e, lt, ch = (
            _q(Component._meta.db_table),
            _q(Enrolment._meta.db_table),
            _q(Learner._meta.db_table),
            _q(ComponentChange._meta.db_table),
        )
        pace = _pace("l")
        at = _datetime_sql("c.due_date", "8 + (c.learner_id + c.position) %% 9")
        iv = self.user_ids["iv"]
        js = _json_text
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {ch} (at, by_id, learner_id, enrolment_id, component_id, template_id, component_name,
                                  action, field, old_value, new_value, visit_id)
                SELECT {at}, c.owner_id, c.learner_id, c.enrolment_id, c.id, c.template_id, c.name,
                       'updated', 'status', {js("'in_progress'")}, {js("c.status")}, NULL
                FROM {c} c
                WHERE c.status IN ('completed', 'awaiting_marking', 'referred') AND (c.learner_id + c.position) %% 6 = 0
                  AND c.due_date < %s
                """,
                [_date(self.today)],
            )
            cursor.execute(
                f"""
                INSERT INTO {ch} (at, by_id, learner_id, enrolment_id, component_id, template_id, component_name,
                                  action, field, old_value, new_value, visit_id)
                SELECT {at}, %s, c.learner_id, c.enrolment_id, c.id, c.template_id, c.name,
                       'updated', 'planned_for_qa', {js("'false'", raw=True)}, {js("'true'", raw=True)}, NULL
                FROM {c} c
                WHERE c.planned_for_qa = %s AND c.type = 'assessment' AND c.status = 'completed'
                """,
                [iv, True],
            )
            removed = (
                f"c.type = 'learning_activity' AND c.status = 'not_started' AND c.position %% 7 = 3 "
                f"AND c.learner_id IN (SELECT l.id FROM {lt} l WHERE {pace} %% 20 = 0)"
            )
            snapshot = _json_object("'name'", "c.name", "'type'", "c.type", "'status'", "c.status")
            cursor.execute(
                f"""
                INSERT INTO {ch} (at, by_id, learner_id, enrolment_id, component_id, template_id, component_name,
                                  action, field, old_value, new_value, visit_id)
                SELECT %s, c.owner_id, c.learner_id, c.enrolment_id, c.id, c.template_id, c.name,
                       'deleted', '', {snapshot}, NULL, NULL
                FROM {c} c WHERE {removed}
                """,
                [self.now_db],
            )
            cursor.execute(f"DELETE FROM {c} WHERE id IN (SELECT c.id FROM {c} c WHERE {removed})", [])
            # A catch-up session added by hand to some learners' plans: it has no template.
            FLAGS = (False, True, False, False)  # evidence required, via organisation, via employer, QA
            handmade = "Additional support: catch-up session with your skills coach"
            empty = js("'[]'", raw=True)
            cursor.execute(
                f"""
                INSERT INTO {c} (learner_id, enrolment_id, template_id, position, status, due_date, owner_id,
                                 marking_aid_submitted, revision, created_at, updated_at, name, type, completion_mode,
                                 criteria_mappings, instructions, evidence_required, min_evidence, documents,
                                 delivery_via_organisation, delivery_via_employer, planned_for_qa,
                                 marking_aid_exercise, review_type)
                SELECT e.learner_id, e.id, NULL, 1000, 'not_started', %s, l.tutor_id, %s, 1, %s, %s, %s,
                       'learning_activity', 'tutor', {empty},
                       'Book a one-to-one with your skills coach to catch up on overdue work.', %s, 0, {empty},
                       %s, %s, %s, '', ''
                FROM {e} e JOIN {lt} l ON l.id = e.learner_id
                WHERE e.status = 'active' AND {pace} %% 25 = 1
                  AND e.programme_id IN (SELECT id FROM {_q(Programme._meta.db_table)} WHERE parent_id IS NULL)
                """,
                [_date(self.today + dt.timedelta(days=14)), False, self.now_db, self.now_db, handmade, *FLAGS],
            )
            cursor.execute(
                f"""
                INSERT INTO {ch} (at, by_id, learner_id, enrolment_id, component_id, template_id, component_name,
                                  action, field, old_value, new_value, visit_id)
                SELECT %s, c.owner_id, c.learner_id, c.enrolment_id, c.id, NULL, c.name, 'created', '', NULL,
                       {snapshot}, NULL
                FROM {c} c WHERE c.template_id IS NULL AND c.position = 1000
                """,
                [self.now_db],
            )

    def _count(self) -> None:
        tables: Sequence[type[models.Model]] = (
            Group, get_user_model(), StaffProfile, Programme, ComponentTemplate, Employer, Manager, Learner,
            Learner.groups.through, Enrolment, Component, Review, CalendarTask, ComponentChange, Session, Curriculum,
            Milestone, Assignment, ProgramEnrolment,
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT {i}, COUNT(*) FROM {_q(m._meta.db_table)}"
                    + (" WHERE username IN (" + ", ".join(["%s"] * len(USERNAMES)) + ")" if i == 1 else "")
                    for i, m in enumerate(tables)
                ),
                list(USERNAMES),
            )
            counts = dict(cursor.fetchall())
        self.report.rows = {m._meta.db_table: counts[i] for i, m in enumerate(tables)}


# --- SQL helpers ----------------------------------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _in(*values: str) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _pace(learner: str) -> str:
    """A per-learner pseudo-random integer from digits of the (seeded, random) ULN."""
    return f"CAST(SUBSTR({learner}.uln, 3, 6) AS BIGINT)"


def _mix(a: str, b: str) -> str:
    """A pseudo-random integer 0…996 from two integers, the same on SQLite and PostgreSQL."""
    return f"((({a}) + ({b}) * 7919) * 40503 %% 997)"


def _datetime_sql(date_sql: str, hour_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"(({date_sql} + ({hour_sql}) * INTERVAL '1 hour') AT TIME ZONE 'UTC')"
    return f"DATETIME({date_sql}, '+' || ({hour_sql}) || ' hours')"


def _json_text(sql: str, raw: bool = False) -> str:
    """A JSON value from a text expression: a JSON string, or (raw) the JSON the text spells."""
    if connection.vendor == "postgresql":
        return f"({sql})::jsonb" if raw else f"to_jsonb(({sql})::text)"
    return sql if raw else f"JSON_QUOTE({sql})"


def _json_object(*pairs: str) -> str:
    return f"{'jsonb_build_object' if connection.vendor == 'postgresql' else 'JSON_OBJECT'}({', '.join(pairs)})"


def _date(value: dt.date) -> Any:
    """A date as the database driver takes it (SQLite: ISO text; PostgreSQL: the date)."""
    return value.isoformat() if connection.vendor == "sqlite" else value


def _insert(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Many rows with one statement, whatever their number.

    PostgreSQL: one INSERT … SELECT FROM unnest() of one array per column. SQLite: one prepared INSERT
    run by `executemany` (in-process, so no round trips). Values must already be in database form
    (see `_date` and `_Build.now_db`)."""
    if not rows:
        return
    table, names = _q(model._meta.db_table), ", ".join(_q(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            by_column = {f.column: f for f in model._meta.concrete_fields}
            arrays = ", ".join(f"%s::{by_column[c].db_type(connection)}[]" for c in columns)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})",
                [list(c) for c in zip(*rows, strict=True)],
            )
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows)


def _ids_in_order(model: type[models.Model]) -> list[int]:
    return list(model._default_manager.order_by("id").values_list("id", flat=True))


def _unique_ulns(rng: random.Random, n: int) -> list[str]:
    """n distinct valid ULNs (about one nine-digit stem in eleven has no check digit)."""
    ulns: list[str] = []
    for stem in rng.sample(range(1_000_000_000, 10_000_000_000, 10), n + n // 5 + 20):
        first_nine = str(stem // 10)
        digit = uln_check_digit(first_nine)
        if digit is not None:
            ulns.append(f"{first_nine}{digit}")
            if len(ulns) == n:
                return ulns
    raise AssertionError("too few ULN stems sampled")


def _waypoint_models_children_first() -> list[type[models.Model]]:
    """Waypoint's tables ordered so that a table comes before every table it references."""
    own = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_config is not None
        and m._meta.app_config.name.startswith("waypoint.")
        and m._meta.managed
        and not m._meta.proxy
    ]
    own_set = set(own)
    ordered: list[type[models.Model]] = []
    state: dict[type[models.Model], int] = {}

    def visit(model: type[models.Model]) -> None:
        # Depth-first over "is referenced by": a model's referrers are placed before it.
        if state.get(model):
            return
        state[model] = 1
        for other in own:
            if other is not model and any(
                f.is_relation and f.many_to_one and f.related_model is model for f in other._meta.concrete_fields
            ):
                visit(other)
        ordered.append(model)

    for model in own:
        visit(model)
    assert own_set == set(ordered)
    return ordered
