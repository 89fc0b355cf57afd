"""The project's URLs with the LRS emulator mounted, whatever WAYPOINT_EMULATORS was at import time."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("emulators/lrs/", include("waypoint.attainments.lrs.emulator")), *project_urlpatterns]
