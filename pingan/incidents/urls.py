from django.urls import path

from . import views

urlpatterns = [
    path("report/", views.report, name="report"),
    path("my/reports/", views.my_reports, name="my-reports"),
    path("my/reports/<str:code>/", views.my_report, name="my-report"),
    path("my/reports/<str:code>/part/", views.my_report_part, name="my-report-part"),
    path("my/reports/<str:code>/rate/", views.rate, name="rate"),
    path("photos/<int:pk>/", views.photo, name="incident-photo"),
    path("unit/", views.unit_home, name="unit-home"),
    path("unit/list/", views.unit_list_part, name="unit-list-part"),
    path("unit/duty/", views.unit_duty, name="unit-duty"),
    path("unit/incidents/<str:code>/<str:action>/", views.unit_action, name="unit-action"),
    path("console/", views.board, name="console-board"),
    path("console/compliance/", views.compliance, name="console-compliance"),
    path("console/incidents/", views.console_incidents, name="console-incidents"),
    path("console/incidents/<str:code>/", views.console_incident, name="console-incident"),
    path("console/incidents/<str:code>/row/", views.board_row, name="console-row"),
    path("console/incidents/<str:code>/<str:action>/", views.console_action, name="console-action"),
]
