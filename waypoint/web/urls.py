from django.contrib.auth import views as auth_views
from django.urls import path

from waypoint.web.views import attainments, dashboard, learners, plan, programmes, sync

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
    path("programmes/", programmes.programme_list, name="programme_list"),
    path("programmes/<int:programme_id>/", programmes.programme_detail, name="programme_detail"),
]
