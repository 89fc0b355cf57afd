"""The dashboard: for staff, who you are, what you may do, and how many learners you see; for a professional (a
user without a staff profile), their assigned learning plans with progress."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from waypoint.people.access import sees_all_groups, staff_perms, staff_profile
from waypoint.people.models import Perm
from waypoint.people.selectors import learner_list_for
from waypoint.programmes.models import ProgrammeStatus
from waypoint.web.queries import status_counts_for
from waypoint.web.views.curriculum_learning import professional_dashboard
from waypoint.web.views.integrations import epa_counts

# What each permission lets an admin do on a learning plan, in plain words (R-SYNC-20…24).
PERM_MEANING = {
    Perm.SUPERVISOR: "Add, edit and delete any component, finished or not.",
    Perm.COMPLIANCE_QA: "Add, edit and delete any component, finished or not.",
    Perm.INTERNAL_VERIFIER: "Set or clear Planned for QA on components in any status.",
    Perm.ADM_ADD: "Add components by hand and re-add removed template components.",
    Perm.ADM_EDIT: "Edit components that are not finished.",
    Perm.ADM_DELETE: "Delete components that are not finished.",
    Perm.EDIT_DELETE_FINISHED: "With ADM (Edit) or (Delete): also edit or delete finished components.",
    Perm.PLR_IMPORT: "Download learners' attainments from the Learning Records Service and record them.",
    Perm.PLR_VIEW: "Download, view and export learners' attainments from the LRS; not record them.",
    Perm.AUTOMATION_APPROVE: "Approve or reject process-automation requests (change of employer, break in learning…).",
}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    perms = staff_perms(user)
    profile = staff_profile(user)
    if profile is None and not perms:
        return professional_dashboard(request)
    counts = status_counts_for(user)
    context = {
        "perm_rows": [(perm, perm in perms, PERM_MEANING[perm]) for perm in Perm],
        "holds_any": bool(perms),
        "profile": profile,
        "sees_all": sees_all_groups(user),
        "visible_groups": list(profile.groups.all()) if profile and not sees_all_groups(user) else [],
        "learner_total": learner_list_for(user).count(),
        "my_learners": learner_list_for(user, tutor_id=user.pk).count() if profile and profile.is_tutor else None,
        "status_rows": [(value, label, counts[value]) for value, label in ProgrammeStatus.choices],
        "epa": epa_counts(user),
    }
    return render(request, "web/dashboard.html", context)
