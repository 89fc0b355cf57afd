"""The demo provider's programmes and their templates: real apprenticeship standards, believable plans."""

from dataclasses import dataclass, field
from typing import Any

from waypoint.programmes.models import CompletionMode, ComponentType, ReviewType


@dataclass(frozen=True)
class Module:
    name: str
    topics: tuple[str, ...]
    assessment: str
    marking_aid: str = ""


@dataclass(frozen=True)
class ProgrammeSpec:
    name: str
    code: str
    standard_code: str
    epao_id: str
    criteria: tuple[str, ...]
    duration_days: int  # start to planned end, EPA included
    epa_days: int
    modules: tuple[Module, ...] = ()
    exams: tuple[str, ...] = ()
    share: float = 0.0  # of the learners enrolled on it (top-level programmes only)
    sub_programmes: tuple["ProgrammeSpec", ...] = field(default=())

    @property
    def gateway_day(self) -> int:
        return self.duration_days - self.epa_days


def _criteria(k: int, s: int, b: int) -> tuple[str, ...]:
    return tuple(
        [f"K{i}" for i in range(1, k + 1)] + [f"S{i}" for i in range(1, s + 1)] + [f"B{i}" for i in range(1, b + 1)]
    )


SOFTWARE_DEVELOPER = ProgrammeSpec(
    name="Software Developer Level 4",
    code="SD-L4",
    standard_code="ST0116",
    epao_id="EPA0015",
    criteria=_criteria(12, 10, 5),
    duration_days=600,
    epa_days=120,
    share=0.36,
    modules=(
        Module(
            "Software development lifecycle",
            ("Lifecycle models: waterfall, agile, DevOps", "Requirements and user stories", "Estimation and planning"),
            "Lifecycle case study",
        ),
        Module(
            "Programming fundamentals",
            (
                "Data types and control flow",
                "Functions and modular code",
                "Debugging techniques",
                "Version control with Git",
            ),
            "Programming fundamentals practical",
            marking_aid="MA-SD-01 Refactor a legacy function",
        ),
        Module(
            "Object-oriented design",
            ("Classes, objects and encapsulation", "Inheritance and composition", "Design patterns in practice"),
            "Object-oriented design assignment",
            marking_aid="MA-SD-02 Model a booking system",
        ),
        Module(
            "Databases and data",
            ("Relational modelling", "SQL queries and joins", "Transactions and integrity", "Data protection and GDPR"),
            "Database design project",
            marking_aid="MA-SD-03 Normalise a schema",
        ),
        Module(
            "Web development",
            ("HTTP and the web platform", "Building accessible pages", "APIs and JSON", "Front-end frameworks"),
            "Web application build",
        ),
        Module(
            "Testing and quality",
            ("Unit testing", "Test-driven development", "Integration and end-to-end tests", "Code review"),
            "Testing strategy report",
            marking_aid="MA-SD-04 Write tests for a bug fix",
        ),
        Module(
            "Security",
            ("Secure coding and OWASP Top 10", "Authentication and authorisation", "Threat modelling"),
            "Secure code review",
        ),
        Module(
            "Deployment and operations",
            ("Continuous integration", "Containers and cloud hosting", "Monitoring and incident response"),
            "Deployment pipeline demonstration",
        ),
        Module(
            "Professional practice",
            ("Working in a team", "Communicating with stakeholders", "Ethics and sustainability in software"),
            "Reflective account",
        ),
    ),
    exams=("Knowledge test: software development principles (mock)", "Knowledge test: software development principles"),
)

TEAM_LEADER = ProgrammeSpec(
    name="Team Leader/Supervisor Level 3",
    code="TLS-L3",
    standard_code="ST0384",
    epao_id="EPA0042",
    criteria=_criteria(12, 10, 5),
    duration_days=450,
    epa_days=90,
    share=0.30,
    modules=(
        Module(
            "Leading people",
            ("Leadership styles", "Motivating a team", "Delegation"),
            "Leadership styles reflection",
            marking_aid="MA-TL-01 Delegation scenario",
        ),
        Module(
            "Managing people",
            ("Recruitment and induction", "Performance management", "Absence and wellbeing"),
            "Performance conversation plan",
        ),
        Module(
            "Building relationships",
            ("Stakeholder mapping", "Managing conflict", "Equality, diversity and inclusion"),
            "Stakeholder map and plan",
        ),
        Module(
            "Communication",
            ("Communication styles", "Running effective meetings", "Giving and receiving feedback"),
            "Team briefing observation",
            marking_aid="MA-TL-02 Feedback role play",
        ),
        Module(
            "Operational management",
            ("Planning and organising work", "Business objectives and KPIs", "Change in the workplace"),
            "Operational plan",
        ),
        Module(
            "Project management",
            ("Project lifecycle", "Risk and issue logs", "Monitoring progress"),
            "Workplace project proposal",
        ),
        Module(
            "Finance",
            ("Budgets and cost control", "Reading financial reports"),
            "Budget monitoring exercise",
        ),
        Module(
            "Self-awareness and management",
            ("Emotional intelligence", "Time management", "Personal development planning"),
            "Personal development plan",
        ),
    ),
    exams=("Professional discussion preparation",),
)

FUNCTIONAL_SKILLS_MATHS = ProgrammeSpec(
    name="Functional Skills Maths Level 2",
    code="BA-L3-FSM",
    standard_code="",
    epao_id="",
    criteria=("N1", "N2", "N3", "M1", "M2", "H1", "H2"),
    duration_days=450,
    epa_days=90,
    modules=(
        Module("Number", ("Fractions, decimals and percentages", "Ratio and proportion"), "Number diagnostic"),
        Module("Measure, shape and space", ("Area, perimeter and volume", "Scale drawings"), "Measure practice paper"),
        Module("Handling data", ("Averages and range", "Charts and probability"), "Data practice paper"),
    ),
    exams=("Functional Skills Maths L2: calculator paper", "Functional Skills Maths L2: non-calculator paper"),
)

FUNCTIONAL_SKILLS_ENGLISH = ProgrammeSpec(
    name="Functional Skills English Level 2",
    code="BA-L3-FSE",
    standard_code="",
    epao_id="",
    criteria=("R1", "R2", "R3", "W1", "W2", "W3", "SLC1"),
    duration_days=450,
    epa_days=90,
    modules=(
        Module("Reading", ("Identifying purpose and audience", "Comparing texts"), "Reading practice paper"),
        Module(
            "Writing", ("Formal letters and reports", "Spelling, punctuation and grammar"), "Writing practice paper"
        ),
        Module("Speaking, listening and communicating", ("Presenting information",), "Group discussion assessment"),
    ),
    exams=("Functional Skills English L2: reading", "Functional Skills English L2: writing"),
)

BUSINESS_ADMINISTRATOR = ProgrammeSpec(
    name="Business Administrator Level 3",
    code="BA-L3",
    standard_code="ST0070",
    epao_id="EPA0001",
    criteria=_criteria(10, 10, 5),
    duration_days=540,
    epa_days=90,
    share=0.34,
    modules=(
        Module(
            "Organisational purpose",
            ("Vision, values and structure", "Legislation and regulation", "External environment"),
            "Organisation profile",
        ),
        Module(
            "IT and record keeping",
            ("Spreadsheets for administrators", "Document management", "Data protection in practice"),
            "Spreadsheet task",
            marking_aid="MA-BA-01 Clean a contact list",
        ),
        Module(
            "Communication",
            ("Business writing", "Minute taking", "Customer service"),
            "Business correspondence portfolio",
            marking_aid="MA-BA-02 Draft a complaint reply",
        ),
        Module(
            "Stakeholders",
            ("Internal and external stakeholders", "Managing expectations"),
            "Stakeholder engagement plan",
        ),
        Module(
            "Processes and project management",
            ("Process mapping", "Continuous improvement", "Planning a small project"),
            "Improvement project",
        ),
        Module(
            "Decision making and problem solving",
            ("Analysing problems", "Presenting options"),
            "Problem-solving case study",
        ),
    ),
    exams=("Knowledge test (mock)", "Knowledge test"),
    sub_programmes=(FUNCTIONAL_SKILLS_MATHS, FUNCTIONAL_SKILLS_ENGLISH),
)

PROGRAMMES: tuple[ProgrammeSpec, ...] = (SOFTWARE_DEVELOPER, TEAM_LEADER, BUSINESS_ADMINISTRATOR)

_START_DOCUMENTS = (
    ("Apprenticeship agreement", ("Apprenticeship agreement.pdf",)),
    ("Commitment statement", ("Commitment statement.pdf", "Training plan.docx")),
    ("Initial assessment: English and maths", ("Initial assessment guidance.pdf",)),
    ("Skills scan", ("Skills scan.xlsx",)),
    ("Individual learning plan", ("ILP template.docx",)),
)


def templates_for(spec: ProgrammeSpec) -> list[dict[str, Any]]:
    """The template components of a programme, ordered by due day; positions are 1, 2, 3…"""
    items: list[dict[str, Any]] = []
    criteria = spec.criteria
    is_top = spec.sub_programmes != () or spec.share > 0
    gateway = spec.gateway_day

    def add(day: int, name: str, type_: str, **values: Any) -> None:
        n = len(items)
        mapped = values.pop("criteria_mappings", None)
        if mapped is None:
            mapped = [criteria[(n * 5 + i * 7) % len(criteria)] for i in range(1 + n % 3)]
        items.append(
            {
                "name": name,
                "type": type_,
                "due_offset_days": day,
                "criteria_mappings": sorted(set(mapped), key=lambda c: (c[0], int("".join(filter(str.isdigit, c))))),
                "planned_for_qa": values.pop("planned_for_qa", n % 9 == 4),
                **values,
            }
        )

    if is_top:
        for i, (name, documents) in enumerate(_START_DOCUMENTS):
            add(
                3 + i * 3,
                name,
                ComponentType.DOCUMENT,
                completion_mode=CompletionMode.EVIDENCE,
                evidence_required=True,
                min_evidence=1,
                documents=list(documents),
                instructions=f"Download, complete and upload the {name.lower()}, signed by you and your manager.",
                criteria_mappings=[],
                planned_for_qa=i == 0,
            )
        add(
            21,
            "Initial review",
            ComponentType.REVIEW,
            review_type=ReviewType.INITIAL,
            completion_mode=CompletionMode.REVIEW_SIGN_OFF,
            instructions="Agree the training plan and off-the-job schedule with your skills coach.",
            criteria_mappings=[],
        )
    else:
        add(
            14,
            f"{spec.name}: initial assessment",
            ComponentType.ASSESSMENT,
            completion_mode=CompletionMode.MARKING,
            evidence_required=True,
            min_evidence=1,
            instructions="Complete the online initial assessment so we can plan your sessions.",
        )

    # Learning, spread over the practical period between the first month and the gateway.
    span = max(gateway - 45, 60)
    module_days = span // max(len(spec.modules), 1)
    for m, module in enumerate(spec.modules):
        first = 35 + m * module_days
        step = module_days // (len(module.topics) + 1)
        for t, topic in enumerate(module.topics):
            add(
                first + t * step,
                f"{module.name}: {topic}",
                ComponentType.LEARNING_ACTIVITY,
                completion_mode=CompletionMode.LEARNER if t % 2 else CompletionMode.TUTOR,
                instructions=f"Work through the {topic.lower()} session and the linked activities, "
                "then log your reflections.",
                delivery_via_organisation=t % 3 != 2,
                delivery_via_employer=t % 3 == 2,
                documents=[f"{topic} workbook.pdf"] if t == 0 else [],
            )
        add(
            first + (len(module.topics)) * step,
            f"{module.name}: {module.assessment}",
            ComponentType.ASSESSMENT,
            completion_mode=CompletionMode.MARKING,
            evidence_required=True,
            min_evidence=1 + m % 2,
            instructions=f"Submit your {module.assessment.lower()} for marking, following the brief and criteria.",
            documents=[f"{module.assessment} brief.pdf", "Marking criteria.pdf"],
            marking_aid_exercise=module.marking_aid,
            planned_for_qa=m % 3 == 1,
        )

    if is_top:
        # Monthly off-the-job logs and reviews every twelve weeks (tripartite and progress alternate).
        for month, day in enumerate(range(30, gateway, 30), start=1):
            add(
                day,
                f"Off-the-job training log: month {month}",
                ComponentType.OFF_THE_JOB,
                completion_mode=CompletionMode.EVIDENCE,
                evidence_required=True,
                min_evidence=1,
                instructions="Record your off-the-job hours for the month with a short description of each activity.",
                delivery_via_employer=month % 4 == 0,
                criteria_mappings=[],
                planned_for_qa=False,
            )
        for r, day in enumerate(range(84, gateway - 20, 84), start=1):
            tripartite = r % 2 == 1
            add(
                day,
                f"{'Tripartite' if tripartite else 'Progress'} review {r}",
                ComponentType.REVIEW if tripartite else ComponentType.PROGRESS_REVIEW,
                review_type=ReviewType.TRIPARTITE if tripartite else ReviewType.PROGRESS,
                completion_mode=CompletionMode.REVIEW_SIGN_OFF,
                instructions="Review progress against the plan with your skills coach"
                + (" and your line manager." if tripartite else "."),
                delivery_via_employer=tripartite,
                criteria_mappings=[],
                planned_for_qa=r == 2,
            )
    for e, exam in enumerate(spec.exams):
        add(
            gateway - 40 + e * 30,
            exam,
            ComponentType.EXAM,
            completion_mode=CompletionMode.MARKING,
            instructions="Book the exam with the exams officer at least two weeks ahead.",
            criteria_mappings=list(criteria[: min(6, len(criteria))]),
        )
    if is_top:
        add(
            gateway - 14,
            "Portfolio of evidence",
            ComponentType.DOCUMENT,
            completion_mode=CompletionMode.EVIDENCE,
            evidence_required=True,
            min_evidence=3,
            documents=["Portfolio mapping grid.xlsx"],
            instructions="Upload your portfolio, mapped to the knowledge, skills and behaviours of the standard.",
            criteria_mappings=list(criteria),
            planned_for_qa=True,
        )
        add(
            gateway,
            "Gateway readiness review",
            ComponentType.REVIEW,
            review_type=ReviewType.GATEWAY,
            completion_mode=CompletionMode.REVIEW_SIGN_OFF,
            instructions="Confirm with your employer that you are ready for end-point assessment.",
            delivery_via_employer=True,
            criteria_mappings=[],
        )
        add(
            gateway + 7,
            "Gateway declaration",
            ComponentType.DOCUMENT,
            completion_mode=CompletionMode.EVIDENCE,
            evidence_required=True,
            min_evidence=1,
            documents=["Gateway declaration form.pdf"],
            instructions="Upload the gateway declaration signed by you, your employer and the provider.",
            criteria_mappings=[],
        )
    items.sort(key=lambda item: item["due_offset_days"])
    for position, item in enumerate(items, start=1):
        item["position"] = position
    return items
