"""Curricula (learning plans for professionals), their milestones and linked programs, duplicates and catalogs
(R-CUR-1…4, R-CUR-9). Every write needs the Supervisor permission and happens in one transaction."""

import datetime as dt
import enum
from collections.abc import Sequence
from decimal import Decimal
from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, IntegerField, Max, QuerySet, Value, When

from waypoint.core.errors import Conflict, ValidationFailed
from waypoint.core.validation import refuse, refuse_unknown
from waypoint.curriculum import rules
from waypoint.curriculum.models import Catalog, Curriculum, Milestone, MilestoneProgram, Program
from waypoint.curriculum.report_rows import report_rows_refresh
from waypoint.curriculum.services.programs import validate
from waypoint.people.services.checks import assign, require_supervisor

# Positions are moved out of the way before renumbering, so that no row ever collides with another's position
# while a single UPDATE runs (PostgreSQL checks unique constraints row by row).
_PARKED = 1_000_000
PROGRESS_FIELDS = {"metric", "units", "due_date"}


class CurriculumValues(TypedDict, total=False):
    name: str
    description: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    due_date: dt.date | None
    milestone_order_enforced: bool
    registration_type: str
    auto_register: bool
    add_to_my_learning: bool
    catalog_ids: list[int]


class MilestoneValues(TypedDict, total=False):
    name: str
    description: str
    metric: str
    units: Decimal | None
    due_date: dt.date | None
    program_order_enforced: bool


class DuplicateMode(enum.StrEnum):
    """What `curriculum_duplicate` copies (R-CUR-4)."""

    SHELL = "shell"  # the plan's own settings only
    MILESTONES = "milestones"  # the plan and its milestones, with no programs linked
    EVERYTHING = "everything"  # the plan, its milestones and the programs linked to each, in order


# Curricula


def curriculum_create(*, by: AbstractBaseUser, values: CurriculumValues) -> Curriculum:
    require_supervisor(by, "Creating a learning plan")
    refuse_unknown(values, CurriculumValues.__annotations__, "learning plan")
    fields = {k: v for k, v in values.items() if k != "catalog_ids"}
    catalog_ids = values.get("catalog_ids", [])
    curriculum = Curriculum(created_by_id=by.pk)
    assign(curriculum, fields)
    with transaction.atomic():
        catalogs = _catalogs(catalog_ids)
        _validate_curriculum(curriculum)
        curriculum.save()
        curriculum.catalogs.set(catalogs)
    return curriculum


def curriculum_update(*, curriculum: Curriculum, by: AbstractBaseUser, changes: CurriculumValues) -> Curriculum:
    """Change a plan's settings; `catalog_ids`, when given, replaces the catalogs it appears in."""
    require_supervisor(by, "Changing a learning plan")
    refuse_unknown(changes, CurriculumValues.__annotations__, "learning plan")
    fields = {k: v for k, v in changes.items() if k != "catalog_ids"}
    catalog_ids = changes.get("catalog_ids")
    with transaction.atomic():
        current = Curriculum.objects.select_for_update().get(pk=curriculum.pk)
        assign(current, fields)
        catalogs = _catalogs(catalog_ids) if catalog_ids is not None else None
        _validate_curriculum(current)
        current.save()
        if catalogs is not None:
            current.catalogs.set(catalogs)
    return current


def curriculum_delete(*, curriculum: Curriculum, by: AbstractBaseUser) -> None:
    """Delete a plan nobody is assigned to or registered in: their records are never removed as a side effect."""
    require_supervisor(by, "Deleting a learning plan")
    with transaction.atomic():
        current = Curriculum.objects.select_for_update().get(pk=curriculum.pk)
        assigned = current.assignments.count()
        registered = current.registrations.count()
        if assigned or registered:
            raise Conflict(
                f"{current} has {assigned} assignment(s) and {registered} registration(s); "
                "remove them in Manage Users before deleting the learning plan."
            )
        current.delete()


def curriculum_duplicate(*, curriculum: Curriculum, mode: DuplicateMode | str, by: AbstractBaseUser) -> Curriculum:
    """A copy named "Copy of …" (R-CUR-4): the shell, the shell and milestones, or those and the linked programs.

    Linked programs are linked again, not copied: a program is shared by every milestone that links it. The copy
    is in no catalog, so that professionals do not see it before it is edited and published.
    """
    require_supervisor(by, "Duplicating a learning plan")
    try:
        mode = DuplicateMode(mode)
    except ValueError:
        choices = ", ".join(m.value for m in DuplicateMode)
        raise ValidationFailed(
            f"Choose what to duplicate: {choices}.", fields={"mode": [f"Choose one of {choices}."]}
        ) from None
    with transaction.atomic():
        source = Curriculum.objects.get(pk=curriculum.pk)
        copy = Curriculum.objects.create(
            name=f"Copy of {source.name}"[: Curriculum._meta.get_field("name").max_length],
            description=source.description,
            starts_at=source.starts_at,
            ends_at=source.ends_at,
            due_date=source.due_date,
            milestone_order_enforced=source.milestone_order_enforced,
            registration_type=source.registration_type,
            auto_register=source.auto_register,
            add_to_my_learning=source.add_to_my_learning,
            created_by_id=by.pk,
        )
        if mode == DuplicateMode.SHELL:
            return copy
        milestones = list(source.milestones.order_by("position"))
        copies = Milestone.objects.bulk_create(
            Milestone(
                curriculum=copy,
                position=m.position,
                name=m.name,
                description=m.description,
                metric=m.metric,
                units=m.units,
                due_date=m.due_date,
                program_order_enforced=m.program_order_enforced,
            )
            for m in milestones
        )
        if mode == DuplicateMode.EVERYTHING:
            copy_of = {m.pk: c.pk for m, c in zip(milestones, copies, strict=True)}
            links = MilestoneProgram.objects.filter(milestone__curriculum=source)
            MilestoneProgram.objects.bulk_create(
                MilestoneProgram(milestone_id=copy_of[milestone_id], program_id=program_id, position=position)
                for milestone_id, program_id, position in links.values_list("milestone_id", "program_id", "position")
            )
    return copy


# Milestones


def milestone_create(*, curriculum: Curriculum, by: AbstractBaseUser, values: MilestoneValues) -> Milestone:
    """Append a milestone to a plan (R-CUR-2)."""
    require_supervisor(by, "Creating a milestone")
    refuse_unknown(values, MilestoneValues.__annotations__, "milestone")
    with transaction.atomic():
        locked = Curriculum.objects.select_for_update().get(pk=curriculum.pk)
        last = locked.milestones.aggregate(last=Max("position"))["last"] or 0
        milestone = Milestone(curriculum=locked, position=last + 1)
        assign(milestone, values)
        validate(milestone, "milestone", rules.milestone_problems(milestone.metric, milestone.units))
        milestone.save()
        report_rows_refresh(plans=[locked.pk])
    return milestone


def milestone_update(*, milestone: Milestone, by: AbstractBaseUser, changes: MilestoneValues) -> Milestone:
    """Change a milestone; its metric and units must still suit the programs linked to it (R-CUR-2). A change to
    what progress is measured by (metric, units, due date) rewrites the plan's report rows."""
    require_supervisor(by, "Changing a milestone")
    refuse_unknown(changes, MilestoneValues.__annotations__, "milestone")
    with transaction.atomic():
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        assign(current, changes)
        kinds = current.programs.values_list("kind", flat=True).distinct()
        validate(current, "milestone", rules.milestone_problems(current.metric, current.units, kinds))
        current.save()
        if PROGRESS_FIELDS & changes.keys():
            report_rows_refresh(plans=[current.curriculum_id])
    return current


def milestone_delete(*, milestone: Milestone, by: AbstractBaseUser) -> None:
    """Delete a milestone; the ones after it move up, so that positions stay 1, 2, 3…"""
    require_supervisor(by, "Deleting a milestone")
    with transaction.atomic():
        curriculum = Curriculum.objects.select_for_update().get(pk=milestone.curriculum_id)
        Milestone.objects.filter(pk=milestone.pk).delete()
        remaining = Milestone.objects.filter(curriculum=curriculum)
        _renumber(remaining, list(remaining.order_by("position").values_list("pk", flat=True)))
        report_rows_refresh(plans=[curriculum.pk])


def milestones_reorder(*, curriculum: Curriculum, milestone_ids: Sequence[int], by: AbstractBaseUser) -> None:
    """Put a plan's milestones in the order given: every milestone of the plan, each once."""
    require_supervisor(by, "Reordering milestones")
    with transaction.atomic():
        locked = Curriculum.objects.select_for_update().get(pk=curriculum.pk)
        milestones = Milestone.objects.filter(curriculum=locked)
        _require_permutation(milestone_ids, set(milestones.values_list("pk", flat=True)), "milestone_ids", "milestone")
        _renumber(milestones, milestone_ids)


# Linked programs


def milestone_link_programs(
    *, milestone: Milestone, programs: Sequence[Program], by: AbstractBaseUser
) -> list[MilestoneProgram]:
    """Link programs (or activities) to the end of a milestone, in the order given; already linked ones stay where
    they are. Activities only on Sessions or elective milestones (R-CUR-2)."""
    require_supervisor(by, "Linking programs to a milestone")
    if not programs:
        raise ValidationFailed("Choose at least one program to link.", fields={"programs": ["Choose a program."]})
    with transaction.atomic():
        locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
        linked = set(locked.links.values_list("program_id", flat=True))
        new = list({p.pk: p for p in programs if p.pk not in linked}.values())
        problems = rules.milestone_problems(locked.metric, locked.units, {p.kind for p in new})
        if "programs" in problems:
            activities = ", ".join(p.name for p in new if p.kind == "activity")
            refuse("milestone", {"programs": [f"{problems['programs']} Activities chosen: {activities}."]})
        last = locked.links.aggregate(last=Max("position"))["last"] or 0
        MilestoneProgram.objects.bulk_create(
            MilestoneProgram(milestone=locked, program=p, position=last + index) for index, p in enumerate(new, 1)
        )
        report_rows_refresh(plans=[locked.curriculum_id])
        return list(locked.links.select_related("program").order_by("position"))


def milestone_unlink_program(*, milestone: Milestone, program: Program, by: AbstractBaseUser) -> None:
    """Unlink one program; the ones after it move up."""
    require_supervisor(by, "Unlinking a program from a milestone")
    with transaction.atomic():
        locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
        deleted, _ = MilestoneProgram.objects.filter(milestone=locked, program=program).delete()
        if not deleted:
            raise ValidationFailed(
                f"{program} is not linked to the milestone {locked}.", fields={"program": ["Not linked."]}
            )
        links = MilestoneProgram.objects.filter(milestone=locked)
        _renumber(links, list(links.order_by("position").values_list("pk", flat=True)))
        report_rows_refresh(plans=[locked.curriculum_id])


def milestone_reorder_programs(*, milestone: Milestone, program_ids: Sequence[int], by: AbstractBaseUser) -> None:
    """Put a milestone's linked programs in the order given; only where program order is enforced (R-CUR-2)."""
    require_supervisor(by, "Reordering a milestone's programs")
    with transaction.atomic():
        locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if not locked.program_order_enforced:
            raise ValidationFailed(
                f"The milestone {locked} does not enforce program order, so its programs have no order to change; "
                "turn on Program Order Enforced first.",
                fields={"program_order_enforced": ["Program order is not enforced."]},
            )
        links = MilestoneProgram.objects.filter(milestone=locked)
        link_of = dict(links.values_list("program_id", "pk"))
        _require_permutation(program_ids, set(link_of), "program_ids", "linked program")
        _renumber(links, [link_of[program_id] for program_id in program_ids])


# Catalogs (R-CUR-9)


def catalogs_add(*, curricula: QuerySet[Curriculum], catalogs: QuerySet[Catalog], by: AbstractBaseUser) -> int:
    """Put every chosen plan in every chosen catalog; returns how many placements were new."""
    require_supervisor(by, "Adding learning plans to catalogs")
    _require_chosen(curricula, catalogs)
    through = Curriculum.catalogs.through
    with transaction.atomic():
        present = set(
            through.objects.filter(
                curriculum__in=curricula.values("pk"), catalog__in=catalogs.values("pk")
            ).values_list("curriculum_id", "catalog_id")
        )
        missing = [
            through(curriculum_id=curriculum_id, catalog_id=catalog_id)
            for curriculum_id in curricula.values_list("pk", flat=True)
            for catalog_id in catalogs.values_list("pk", flat=True)
            if (curriculum_id, catalog_id) not in present
        ]
        through.objects.bulk_create(missing)
    return len(missing)


def catalogs_remove(*, curricula: QuerySet[Curriculum], catalogs: QuerySet[Catalog], by: AbstractBaseUser) -> int:
    """Take every chosen plan out of every chosen catalog; returns how many placements were removed."""
    require_supervisor(by, "Removing learning plans from catalogs")
    _require_chosen(curricula, catalogs)
    through = Curriculum.catalogs.through
    with transaction.atomic():
        removed, _ = through.objects.filter(
            curriculum__in=curricula.values("pk"), catalog__in=catalogs.values("pk")
        ).delete()
    return removed


# Helpers


def _validate_curriculum(curriculum: Curriculum) -> None:
    problems = rules.curriculum_problems(
        curriculum.registration_type,
        curriculum.auto_register,
        curriculum.add_to_my_learning,
        curriculum.starts_at,
        curriculum.ends_at,
    )
    validate(curriculum, "learning plan", problems, exclude=("created_by",))


def _catalogs(catalog_ids: Sequence[int]) -> list[Catalog]:
    catalogs = list(Catalog.objects.filter(pk__in=set(catalog_ids)))
    unknown = sorted(set(catalog_ids) - {c.pk for c in catalogs})
    if unknown:
        refuse("learning plan", {"catalog_ids": [f"No catalog has id {', '.join(map(str, unknown))}."]})
    return catalogs


def _require_chosen(curricula: QuerySet[Curriculum], catalogs: QuerySet[Catalog]) -> None:
    fields: dict[str, list[str]] = {}
    if not curricula.exists():
        fields["curricula"] = ["Choose at least one learning plan."]
    if not catalogs.exists():
        fields["catalogs"] = ["Choose at least one catalog."]
    if fields:
        raise ValidationFailed(" ".join(m[0] for m in fields.values()), fields=fields)


def _require_permutation(ids: Sequence[int], expected: set[int], field: str, noun: str) -> None:
    if len(ids) != len(set(ids)) or set(ids) != expected:
        missing = sorted(expected - set(ids))
        unknown = sorted(set(ids) - expected)
        detail = []
        if missing:
            detail.append(f"missing {', '.join(map(str, missing))}")
        if unknown:
            detail.append(f"unknown {', '.join(map(str, unknown))}")
        if len(ids) != len(set(ids)):
            detail.append("some appear twice")
        message = f"List every {noun} exactly once, in the new order ({'; '.join(detail)})."
        raise ValidationFailed(message, fields={field: [message]})


def _renumber(rows: "QuerySet[Milestone] | QuerySet[MilestoneProgram]", ordered_pks: Sequence[int]) -> None:
    """Positions 1, 2, 3… in the order of `ordered_pks`, in two statements whatever the number of rows."""
    if not ordered_pks:
        return
    rows.update(position=F("position") + _PARKED)
    rows.update(
        position=Case(
            *[When(pk=pk, then=Value(position)) for position, pk in enumerate(ordered_pks, 1)],
            output_field=IntegerField(),
        )
    )
