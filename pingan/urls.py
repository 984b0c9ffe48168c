from django.contrib import admin
from django.urls import include, path

from pingan.api import api
from pingan.core import pwa
from pingan.core.pages import favicon

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    # Browsers (and the admin, which has no <link rel="icon">) ask for /favicon.ico.
    path("favicon.ico", favicon),
    # The phone ends as an installable app (pingan/core/pwa.py): at the root, for the scope.
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("offline/", pwa.offline, name="offline"),
    path("", include("pingan.accounts.urls")),
    path("", include("pingan.incidents.urls")),
    path("", include("pingan.orgs.urls")),
    path("", include("pingan.disputes.urls")),
    path("", include("pingan.volunteers.urls")),
    path("", include("pingan.points.urls")),
    path("", include("pingan.audit.urls")),
]

# Error pages in the site's layout, in Chinese (pingan/core/pages.py).
handler400 = "pingan.core.pages.bad_request"
handler403 = "pingan.core.pages.permission_denied"
handler404 = "pingan.core.pages.page_not_found"
handler500 = "pingan.core.pages.server_error"
