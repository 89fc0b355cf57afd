"""Learning Plan reports, notifications and the professionals' term over the API (R-CUR-10, 11, 12).

Reports are open to every admin who may use the API; changing a notification or the term needs Supervisor.
"""

from typing import Any

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from ninja import Query, Router

from waypoint.api.auth import acting_user
from waypoint.api.schemas import ERRORS, PathId
from waypoint.curriculum.exports import report_csv_response, report_xlsx_response
from waypoint.curriculum.models import NotificationTemplate
from waypoint.curriculum.notifications import (
    assignment_notifications_send,
    assignments_for_manual_send,
    notification_template_list,
    notification_template_update,
)
from waypoint.curriculum.reports import STATUSES, ReportPage, people_by_plan_page, status_highlights_page
from waypoint.curriculum.schemas_reports import (
    AssignmentNoticeIn,
    HighlightPage,
    NotificationKindIn,
    NotificationTemplateIn,
    NotificationTemplateOut,
    PersonPlanPage,
    ReportFilterQuery,
    ReportPageQuery,
    SentOut,
    TermIn,
    TermOut,
)
from waypoint.curriculum.terms import ADMIN_TERM, TERM_MAX_LENGTH, plan_term, term_update

router = Router(tags=["learning plans"])

HIGHLIGHTS = "learning-plan-status-highlights"
PEOPLE = "people-by-learning-plan"


def _page_out(page: ReportPage) -> dict[str, Any]:
    counts = page.status_counts
    if counts is None:
        return {"items": page.rows, "count": page.count, "page": page.page, "page_size": page.page_size, "chart": None}
    total = sum(counts.values())
    chart = [
        {
            "status": s,
            "label": label,
            "count": counts[s],
            "percent": round(100 * counts[s] / total) if total else 0,
        }
        for s, label in STATUSES.items()
    ]
    return {"items": page.rows, "count": page.count, "page": page.page, "page_size": page.page_size, "chart": chart}


@router.get("/learning-plans/reports/status-highlights", response={200: HighlightPage, **ERRORS})
def report_status_highlights(request: HttpRequest, query: Query[ReportPageQuery]) -> dict[str, Any]:
    """Learning Plan Status Highlights: one row per plan x person (assigned or registered) with milestones met of
    total, progress and status (R-CUR-11). With `chart=true`, `chart` counts the rows per status for every filter
    but the status, for the page's progress bar."""
    return _page_out(
        status_highlights_page(query.report_filter(), page=query.page, page_size=query.page_size, chart=query.chart)
    )


@router.get("/learning-plans/reports/status-highlights.csv", response={200: None, **ERRORS})
def report_status_highlights_csv(request: HttpRequest, query: Query[ReportFilterQuery]) -> StreamingHttpResponse:
    """Every row of Learning Plan Status Highlights with the same filters, as CSV (streamed)."""
    return report_csv_response("status-highlights", query.report_filter(), HIGHLIGHTS)


@router.get("/learning-plans/reports/status-highlights.xlsx", response={200: None, **ERRORS})
def report_status_highlights_xlsx(request: HttpRequest, query: Query[ReportFilterQuery]) -> FileResponse:
    """Every row of Learning Plan Status Highlights with the same filters, as an Excel workbook."""
    return report_xlsx_response("status-highlights", query.report_filter(), HIGHLIGHTS, "Status Highlights")


@router.get("/learning-plans/reports/people", response={200: PersonPlanPage, **ERRORS})
def report_people(request: HttpRequest, query: Query[ReportPageQuery]) -> dict[str, Any]:
    """People by Learning Plan: one row per person x plan with each milestone's status, units done and required,
    and the registration status, including started and cancelled from My Learning (R-CUR-8, R-CUR-11)."""
    return _page_out(
        people_by_plan_page(query.report_filter(), page=query.page, page_size=query.page_size, chart=query.chart)
    )


@router.get("/learning-plans/reports/people.csv", response={200: None, **ERRORS})
def report_people_csv(request: HttpRequest, query: Query[ReportFilterQuery]) -> StreamingHttpResponse:
    """Every row of People by Learning Plan, four columns per milestone, as CSV (streamed)."""
    return report_csv_response("people", query.report_filter(), PEOPLE)


@router.get("/learning-plans/reports/people.xlsx", response={200: None, **ERRORS})
def report_people_xlsx(request: HttpRequest, query: Query[ReportFilterQuery]) -> FileResponse:
    """Every row of People by Learning Plan, four columns per milestone, as an Excel workbook."""
    return report_xlsx_response("people", query.report_filter(), PEOPLE, "People by Learning Plan")


def _template_out(template: NotificationTemplate) -> dict[str, Any]:
    return {
        "kind": template.kind,
        "name": template.get_kind_display(),
        "enabled": template.enabled,
        "subject": template.subject,
        "body": template.body,
        "days_before": template.days_before,
        "all_curricula": template.all_curricula,
        "curricula": sorted(p.pk for p in template.curricula.all()),
    }


@router.get("/learning-plan-notifications", response={200: list[NotificationTemplateOut], **ERRORS})
def notification_templates(request: HttpRequest) -> list[dict[str, Any]]:
    """The three Learning Plan notifications: Deadline, Registration, Assignment (R-CUR-10)."""
    return [_template_out(t) for t in notification_template_list()]


@router.patch("/learning-plan-notifications/{kind}", response={200: NotificationTemplateOut, **ERRORS})
def notification_template_patch(
    request: HttpRequest, kind: NotificationKindIn, payload: NotificationTemplateIn
) -> dict[str, Any]:
    """Change a notification's wording (Django template syntax; `plan`, `person`, `milestones`, `due_date`, `term`),
    whether it is sent, how many days before the deadline, and for all plans or the listed ones. Supervisor."""
    values = payload.dict(exclude_unset=True)
    template = notification_template_update(kind=kind.value, by=acting_user(request), **values)
    return _template_out(NotificationTemplate.objects.prefetch_related("curricula").get(pk=template.pk))


@router.post("/learning-plans/{plan_id}/assignment-notifications", response={200: SentOut, **ERRORS})
def assignment_notifications(request: HttpRequest, plan_id: PathId, payload: AssignmentNoticeIn) -> dict[str, int]:
    """Send the Learning Plan Assignment notification from Manage Users: to the people listed or to everyone
    assigned the plan (R-CUR-10). It goes even when the automatic notice is switched off."""
    chosen = assignments_for_manual_send(plan_id, payload.people)
    return {"sent": assignment_notifications_send(chosen, by=acting_user(request))}


def _term_out() -> dict[str, Any]:
    return {"value": plan_term(), "admin_term": ADMIN_TERM, "max_length": TERM_MAX_LENGTH}


@router.get("/learning-plan-term", response={200: TermOut, **ERRORS})
def term_get(request: HttpRequest) -> dict[str, Any]:
    """What professionals' pages call a Learning Plan; admin pages, reports and notifications keep `admin_term`."""
    return _term_out()


@router.put("/learning-plan-term", response={200: TermOut, **ERRORS})
def term_put(request: HttpRequest, payload: TermIn) -> dict[str, Any]:
    """Rename the term on professional-facing pages (at most 20 characters); Supervisor (R-CUR-12)."""
    term_update(value=payload.value, by=acting_user(request))
    return _term_out()
