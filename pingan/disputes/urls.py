from django.urls import path

from . import stats_views, views

urlpatterns = [
    # Console: the board by colour, its live fragment, the daily review and visits due.
    path("console/disputes/", views.board, name="disputes-board"),
    path("console/disputes/part/", views.board_part, name="disputes-board-part"),
    path("console/disputes/review/", views.review_page, name="disputes-review"),
    # The statistics page and its Excel export live in stats_views (built alongside).
    path("console/disputes/stats/", stats_views.stats_page, name="dispute-stats"),
    path("console/disputes/stats.xlsx", stats_views.stats_export, name="dispute-stats-export"),
    path("console/disputes/review/<str:code>/", views.review_action, name="disputes-review-action"),
    # Staff: my cases, filing, conversion from an incident, one dispute and its actions.
    path("disputes/mine/", views.mine, name="disputes-mine"),
    path("disputes/mine/part/", views.mine_part, name="disputes-mine-part"),
    path("disputes/new/", views.new, name="dispute-new"),
    path(
        "disputes/from-incident/<str:incident_code>/",
        views.from_incident,
        name="dispute-from-incident",
    ),
    path("disputes/<str:code>/", views.detail, name="dispute-detail"),
    path("disputes/<str:code>/reveal/", views.reveal, name="dispute-reveal"),
    path(
        "disputes/<str:code>/agreements/<str:number>/print/",
        views.print_agreement,
        name="dispute-agreement-print",
    ),
    path("disputes/<str:code>/<str:action>/", views.act, name="dispute-action"),
    # Residents: ask for mediation and follow it.
    path("mediation/", views.mediation_request, name="mediation-request"),
    path("mediation/mine/", views.mediation_mine, name="mediation-mine"),
    path("mediation/<str:code>/", views.mediation_status, name="mediation-status"),
    path("mediation/<str:code>/part/", views.mediation_status_part, name="mediation-status-part"),
]
