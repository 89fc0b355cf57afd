from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from waypoint.api.root import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("waypoint.web.urls")),
]

if settings.WAYPOINT_EMULATORS:
    urlpatterns.insert(0, path("emulators/lrs/", include("waypoint.attainments.lrs.emulator")))
    urlpatterns.insert(0, path("emulators/epa/", include("waypoint.epa.emulator")))
