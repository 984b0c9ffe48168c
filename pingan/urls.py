from django.contrib import admin
from django.urls import include, path

from pingan.api import api

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("pingan.accounts.urls")),
    path("", include("pingan.incidents.urls")),
    path("", include("pingan.orgs.urls")),
    path("", include("pingan.disputes.urls")),
    path("", include("pingan.volunteers.urls")),
    path("", include("pingan.points.urls")),
]
