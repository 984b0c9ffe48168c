"""The project's URLs plus the statistics pages, until they are wired in pingan/disputes/urls.py.

Once `dispute-stats` and `dispute-stats-export` resolve from `pingan.urls`, the extra paths
here are shadowed harmlessly (Django takes the first match) and this module can go.
"""

from django.urls import include, path

from pingan.disputes import stats_views

urlpatterns = [
    path("", include("pingan.urls")),
    path("console/disputes/stats/", stats_views.stats_page, name="dispute-stats"),
    path("console/disputes/stats.xlsx", stats_views.stats_export, name="dispute-stats-export"),
]
