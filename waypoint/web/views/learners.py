"""The learner grid, its CSV export, the learner record and its journal."""

from collections.abc import Iterator
from itertools import groupby
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from waypoint.attainments.selectors import attainments_of
from waypoint.core.csv_stream import csv_response
from waypoint.people.access import staff_perms
from waypoint.people.selectors import learner_list_for
from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import ChangeAction, Component, ComponentChange
from waypoint.plans.permissions import QA_FLAG, PlanAction, plan_change_refusal
from waypoint.plans.selectors import journal_for, learner_components, removed_templates_of_learner
from waypoint.plans.services.reviews import REVIEW_SCHEDULE_FIELD
from waypoint.programmes.models import ComponentType
from waypoint.programmes.selectors import enrolments_of
from waypoint.web.forms import LearnerFilterForm, ReaddForm
from waypoint.web.queries import (
    learner_component_types,
    user_names,
    with_enrolments,
)
from waypoint.web.values import display_value, field_label
from waypoint.web.views.common import PAGE_SIZE, learner_or_404, visit_id


@login_required
def learner_list(request: HttpRequest) -> HttpResponse:
    form = LearnerFilterForm(request.GET or None)
    learners = with_enrolments(learner_list_for(request.user, **form.filters()))
    page = Paginator(learners, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "export_query": request.GET.urlencode()}
    partial = request.headers.get("HX-Request") and request.headers.get("HX-Target") == "learner-grid"
    return render(request, "web/learners/_grid.html" if partial else "web/learners/list.html", context)


@login_required
def learner_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered grid as CSV, streamed so that 20,000 rows never sit in memory at once."""
    form = LearnerFilterForm(request.GET or None)
    learners = with_enrolments(learner_list_for(request.user, **form.filters()))

    def rows() -> Iterator[list[object]]:
        for learner in learners.iterator(chunk_size=2000):
            enrolments = list(learner.enrolments.all())
            tutor = learner.tutor
            yield [
                learner.pk,
                learner.first_name,
                learner.surname,
                learner.uln,
                learner.email,
                learner.employer.name if learner.employer else "",
                (tutor.get_full_name() or tutor.get_username()) if tutor else "",
                "; ".join(e.programme.name for e in enrolments),
                "; ".join(e.get_status_display() for e in enrolments),
            ]

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    headings = ["Id", "First name", "Surname", "ULN", "Email", "Employer", "Tutor", "Programmes", "Statuses"]
    return csv_response(filename=f"learners-{stamp}", headings=headings, rows=rows())


@login_required
def learner_detail(request: HttpRequest, learner_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    type_filter = request.GET.get("type") or None
    if type_filter not in ComponentType.values:
        type_filter = None
    enrolments = list(enrolments_of(learner.pk))
    components = list(learner_components(learner.pk, type=type_filter))
    removed = list(removed_templates_of_learner(learner.pk))
    perms = staff_perms(request.user)
    add_refusal = plan_change_refusal(perms, PlanAction.ADD, finished=False)
    by_enrolment: dict[int, list[Component]] = {}
    for component in components:
        by_enrolment.setdefault(component.enrolment_id, []).append(component)
    plans = []
    for enrolment in enrolments:
        own = by_enrolment.get(enrolment.pk, [])
        groups = [
            (ComponentType(t).label, [_row(c, perms) for c in rows])
            for t, rows in groupby(sorted(own, key=lambda c: _type_order(c.type)), key=lambda c: c.type)
        ]
        plans.append(
            {
                "enrolment": enrolment,
                "groups": groups,
                "count": len(own),
                "removed": [t for t in removed if t.programme_id == enrolment.programme_id],
            }
        )
    present_types = learner_component_types(learner.pk)
    context = {
        "learner": learner,
        "groups": list(learner.groups.all()),
        "plans": plans,
        "attainments": list(attainments_of(learner.pk)),
        "type_filter": type_filter,
        "type_choices": [(t, ComponentType(t).label) for t in ComponentType.values if t in present_types],
        "add_refusal": add_refusal.message if add_refusal else None,
        "readd_form": ReaddForm(),
        "visit_id": visit_id(request),
    }
    return render(request, "web/learners/detail.html", context)


def _type_order(type_: str) -> int:
    return ComponentType.values.index(type_) if type_ in ComponentType.values else len(ComponentType.values)


def _row(component: Component, perms: Any) -> dict[str, Any]:
    """A plan row with the buttons this admin may use, or why not."""
    finished = component.is_finished
    edit_all = plan_change_refusal(perms, PlanAction.EDIT, finished=finished, fields=EDITABLE_FIELDS)
    edit_qa = plan_change_refusal(perms, PlanAction.EDIT, finished=finished, fields=[QA_FLAG])
    delete = plan_change_refusal(perms, PlanAction.DELETE, finished=finished)
    schedule = plan_change_refusal(perms, PlanAction.EDIT, finished=finished, fields=[REVIEW_SCHEDULE_FIELD])
    review = getattr(component, "review", None) if component.type in ComponentType.with_review() else None
    return {
        "c": component,
        "review": review,
        "edit_refusal": edit_all.message if edit_all and edit_qa else None,
        "qa_only": bool(edit_all and not edit_qa),
        "delete_refusal": delete.message if delete else None,
        "schedule_refusal": schedule.message if schedule else None,
    }


@login_required
def learner_journal(request: HttpRequest, learner_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    page = Paginator(journal_for(learner.pk), PAGE_SIZE).get_page(request.GET.get("page"))
    changes: list[ComponentChange] = list(page.object_list)
    owners = user_names(
        v for ch in changes if ch.field == "owner" for v in (ch.old_value, ch.new_value) if v is not None
    )
    context = {
        "learner": learner,
        "page": page,
        "rows": [_journal_row(ch, owners) for ch in changes],
        "crumbs": ["Journal"],
        "visit_id": visit_id(request),
    }
    return render(request, "web/learners/journal.html", context)


def _journal_row(change: ComponentChange, owners: dict[int, str]) -> dict[str, Any]:
    return {
        "change": change,
        "field_label": field_label(change.field),
        "old": display_value(change.field, change.old_value, owners),
        "new": display_value(change.field, change.new_value, owners),
        "is_update": change.action == ChangeAction.UPDATED,
    }
