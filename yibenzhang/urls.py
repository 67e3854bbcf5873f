from django.contrib import admin
from django.urls import include, path

from yibenzhang.api import api

urlpatterns = [
    path("", include("core.urls")),
    path("accounts/", include("accounts.urls")),
    path("units/", include("orgunits.urls")),
    path("registry/", include("registry.urls")),
    path("imports/", include("registry.import_urls")),
    path("familyplanning/", include("familyplanning.urls")),
    path("outbreak/", include("outbreak.urls")),
    path("testing/", include("testing.urls")),
    path("vaccination/", include("vaccination.urls")),
    path("reports/", include("reports.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
