from django.contrib.auth import views as auth_views
from django.urls import path

from waypoint.web.views import (
    attainments,
    automation,
    circumstances,
    curriculum_admin,
    curriculum_learning,
    dashboard,
    integrations,
    learners,
    people,
    plan,
    programmes,
    sync,
)

# Every page of one learner's record is under /learners/<id>/: RecordVisitMiddleware treats those
# as inside the record (R-SYNC-12).
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", dashboard.dashboard, name="dashboard"),
    path("learners/", learners.learner_list, name="learner_list"),
    path("learners/export.csv", learners.learner_export, name="learner_export"),
    path("learners/<int:learner_id>/", learners.learner_detail, name="learner_detail"),
    path("learners/<int:learner_id>/journal/", learners.learner_journal, name="learner_journal"),
    path(
        "learners/<int:learner_id>/components/<int:component_id>/edit/",
        plan.component_edit,
        name="component_edit",
    ),
    path(
        "learners/<int:learner_id>/components/<int:component_id>/delete/",
        plan.component_delete_view,
        name="component_delete",
    ),
    path(
        "learners/<int:learner_id>/components/<int:component_id>/review/",
        plan.review_schedule_view,
        name="review_schedule",
    ),
    path(
        "learners/<int:learner_id>/enrolments/<int:enrolment_id>/components/add/",
        plan.component_create,
        name="component_add",
    ),
    path(
        "learners/<int:learner_id>/enrolments/<int:enrolment_id>/components/readd/",
        plan.component_readd_view,
        name="component_readd",
    ),
    # The Sync Activities wizard: under the record, so that it keeps the record visit (R-SYNC-12).
    path("learners/<int:learner_id>/sync/", sync.sync_start, name="sync_start"),
    path("learners/<int:learner_id>/sync/<int:run_id>/components/", sync.sync_components, name="sync_components"),
    path("learners/<int:learner_id>/sync/<int:run_id>/learners/", sync.sync_learners, name="sync_learners"),
    path(
        "learners/<int:learner_id>/sync/<int:run_id>/learners/options/<str:kind>/",
        sync.sync_learner_options,
        name="sync_learner_options",
    ),
    path("learners/<int:learner_id>/sync/<int:run_id>/conditions/", sync.sync_conditions, name="sync_conditions"),
    path("learners/<int:learner_id>/sync/<int:run_id>/type/", sync.sync_type, name="sync_type"),
    path("learners/<int:learner_id>/sync/<int:run_id>/summary/", sync.sync_summary, name="sync_summary"),
    path("learners/<int:learner_id>/sync/<int:run_id>/outcomes/", sync.sync_outcomes, name="sync_outcomes"),
    path("learners/<int:learner_id>/sync/<int:run_id>/back/", sync.sync_back, name="sync_back"),
    path("learners/<int:learner_id>/sync/<int:run_id>/confirm/", sync.sync_confirm, name="sync_confirm"),
    path("sync-runs/", sync.sync_run_list, name="sync_run_list"),
    path("sync-runs/<int:run_id>/", sync.sync_run_detail, name="sync_run_detail"),
    path("sync-runs/<int:run_id>/outcomes/", sync.sync_run_outcomes_view, name="sync_run_outcomes"),
    path("sync-runs/<int:run_id>/undo/", sync.sync_run_undo_view, name="sync_run_undo"),
    # The Learner Manager and PLR attainments (R-PLR-1…8).
    path("learner-manager/", attainments.learner_manager, name="learner_manager"),
    path("learner-manager/download/", attainments.plr_download_create, name="plr_download_create"),
    path("plr/downloads/<int:download_id>/", attainments.plr_download, name="plr_download"),
    path("plr/downloads/<int:download_id>/status/", attainments.plr_download_status, name="plr_download_status"),
    path(
        "plr/downloads/<int:download_id>/export.csv",
        attainments.plr_download_export,
        {"kind": "csv"},
        name="plr_download_csv",
    ),
    path(
        "plr/downloads/<int:download_id>/export.xlsx",
        attainments.plr_download_export,
        {"kind": "xlsx"},
        name="plr_download_xlsx",
    ),
    path("plr/downloads/<int:download_id>/update/", attainments.plr_download_update, name="plr_download_update"),
    path(
        "plr/downloads/<int:download_id>/refresh/", attainments.plr_download_refresh_view, name="plr_download_refresh"
    ),
    path("plr/downloads/<int:download_id>/close/", attainments.plr_download_close, name="plr_download_close"),
    # A learner's details, employers and their managers, staff (R-EPA-2…5).
    path("learners/<int:learner_id>/edit/", people.learner_edit, name="learner_edit"),
    path("employers/", people.employer_list, name="employer_list"),
    path("employers/<int:employer_id>/", people.employer_detail, name="employer_detail"),
    path("employers/<int:employer_id>/managers/new/", people.manager_new, name="manager_new"),
    path("managers/options/", people.manager_options, name="manager_options"),
    path("managers/<int:manager_id>/edit/", people.manager_edit, name="manager_edit"),
    path("staff/", people.staff_list_view, name="staff_list"),
    path("staff/<int:user_id>/edit/", people.staff_edit, name="staff_edit"),
    # Edit Programme Details (R-EPA-6) and the manual changes of circumstance (R-EPA-7).
    path(
        "learners/<int:learner_id>/enrolments/<int:enrolment_id>/edit/",
        circumstances.enrolment_edit,
        name="enrolment_edit",
    ),
    path(
        "learners/<int:learner_id>/enrolments/<int:enrolment_id>/break/",
        circumstances.enrolment_break_view,
        name="enrolment_break",
    ),
    path(
        "learners/<int:learner_id>/enrolments/<int:enrolment_id>/return/",
        circumstances.enrolment_return_view,
        name="enrolment_return",
    ),
    path(
        "learners/<int:learner_id>/enrolments/<int:enrolment_id>/withdraw/",
        circumstances.enrolment_withdraw_view,
        name="enrolment_withdraw",
    ),
    path(
        "learners/<int:learner_id>/enrolments/<int:enrolment_id>/change-programme/",
        circumstances.enrolment_change_programme_view,
        name="enrolment_change_programme",
    ),
    # Process automation: request, approve or reject (R-EPA-4, R-EPA-5, R-EPA-7).
    path("automation/", automation.automation_list, name="automation_list"),
    path("automation/<int:tracker_id>/", automation.automation_detail, name="automation_detail"),
    path("automation/<int:tracker_id>/approve/", automation.automation_approve, name="automation_approve"),
    path("automation/<int:tracker_id>/reject/", automation.automation_reject, name="automation_reject"),
    path("learners/<int:learner_id>/automation/new/", automation.learner_tracker_new, name="learner_tracker_new"),
    path(
        "learners/<int:learner_id>/automation/pending/",
        automation.learner_trackers_pending,
        name="learner_trackers_pending",
    ),
    path("programmes/", programmes.programme_list, name="programme_list"),
    path("programmes/<int:programme_id>/", programmes.programme_detail, name="programme_detail"),
    # The EPA platform's integration log and each learner's EPA page (R-EPA-9, R-EPA-12).
    path("integrations/epa/", integrations.integration_log, name="integration_log"),
    path("integrations/epa/export.csv", integrations.integration_log_export, name="integration_log_export"),
    path("integrations/epa/retry-failed/", integrations.integration_retry_failed, name="integration_retry_failed"),
    path("integrations/epa/<int:message_id>/", integrations.integration_message, name="integration_message"),
    path("integrations/epa/<int:message_id>/retry/", integrations.integration_retry, name="integration_retry"),
    path("learners/<int:learner_id>/epa/", integrations.learner_epa, name="learner_epa"),
    path(
        "learners/<int:learner_id>/epa/registrations/<int:registration_id>/register/",
        integrations.learner_epa_register,
        name="learner_epa_register",
    ),
    # Learning plans for professionals (seed 002): administration and reports (R-CUR-1…11).
    path("learning-plans/", curriculum_admin.plan_list, name="curriculum_list"),
    path("learning-plans/new/", curriculum_admin.plan_new, name="curriculum_new"),
    path("learning-plans/<int:curriculum_id>/", curriculum_admin.plan_edit, name="curriculum_edit"),
    path("learning-plans/<int:curriculum_id>/duplicate/", curriculum_admin.plan_duplicate, name="curriculum_duplicate"),
    path("learning-plans/<int:curriculum_id>/catalogs/", curriculum_admin.plan_catalogs, name="curriculum_catalogs"),
    path(
        "learning-plans/<int:curriculum_id>/milestones/new/",
        curriculum_admin.milestone_new,
        name="curriculum_milestone_new",
    ),
    path(
        "learning-plans/<int:curriculum_id>/milestones/<int:milestone_id>/",
        curriculum_admin.milestone_edit,
        name="curriculum_milestone_edit",
    ),
    path(
        "learning-plans/<int:curriculum_id>/milestones/<int:milestone_id>/link/",
        curriculum_admin.milestone_link,
        name="curriculum_milestone_link",
    ),
    path(
        "learning-plans/<int:curriculum_id>/milestones/<int:milestone_id>/move/",
        curriculum_admin.milestone_move,
        name="curriculum_milestone_move",
    ),
    path(
        "learning-plans/<int:curriculum_id>/milestones/<int:milestone_id>/programs/<int:program_id>/move/",
        curriculum_admin.milestone_program_move,
        name="curriculum_program_move",
    ),
    path(
        "learning-plans/<int:curriculum_id>/milestones/order/",
        curriculum_admin.milestones_order,
        name="curriculum_milestones_order",
    ),
    path(
        "learning-plans/<int:curriculum_id>/milestones/<int:milestone_id>/programs/order/",
        curriculum_admin.milestone_programs_order,
        name="curriculum_programs_order",
    ),
    path("learning-plans/<int:curriculum_id>/users/", curriculum_admin.plan_users, name="curriculum_users"),
    path("learning-plans/<int:curriculum_id>/users/notify/", curriculum_admin.plan_notify, name="curriculum_notify"),
    path(
        "learning-plans/<int:curriculum_id>/users/<int:assignment_id>/milestones/<int:milestone_id>/",
        curriculum_admin.assignment_milestone,
        name="curriculum_assignment_milestone",
    ),
    path(
        "learning-plans/<int:curriculum_id>/registrations/<int:registration_id>/delete/",
        curriculum_admin.registration_remove,
        name="curriculum_registration_delete",
    ),
    path("learning-plans/reports/<slug:report>/", curriculum_admin.report, name="curriculum_report"),
    path(
        "learning-plans/reports/<slug:report>/export.csv",
        curriculum_admin.report_download,
        {"kind": "csv"},
        name="curriculum_report_csv",
    ),
    path(
        "learning-plans/reports/<slug:report>/export.xlsx",
        curriculum_admin.report_download,
        {"kind": "xlsx"},
        name="curriculum_report_xlsx",
    ),
    # Professionals' pages (R-CUR-3, R-CUR-8, R-CUR-12).
    path("my-learning/", curriculum_learning.my_learning, name="my_learning"),
    path("catalog/", curriculum_learning.catalog, name="program_catalog"),
    path("plans/<int:curriculum_id>/", curriculum_learning.plan_detail, name="learning_plan"),
    path("plans/<int:curriculum_id>/register/start/", curriculum_learning.register_start, name="learning_plan_start"),
    path("plans/<int:curriculum_id>/register/", curriculum_learning.register_step, name="learning_plan_register"),
    path(
        "plans/<int:curriculum_id>/register/complete/",
        curriculum_learning.register_complete,
        name="learning_plan_complete",
    ),
    path(
        "plans/<int:curriculum_id>/my-learning/",
        curriculum_learning.my_learning_toggle,
        name="learning_plan_my_learning",
    ),
]
