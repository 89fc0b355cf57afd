from django.contrib.auth import views as auth_views
from django.urls import path

from waypoint.web.views import dashboard, learners, plan, programmes

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
    path("programmes/", programmes.programme_list, name="programme_list"),
    path("programmes/<int:programme_id>/", programmes.programme_detail, name="programme_detail"),
]
