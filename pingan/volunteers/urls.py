from django.urls import path

from . import views, views_staff, views_volunteer

urlpatterns = [
    # The volunteer end (phone-first): open tasks, one task, the on-site QR, my history,
    # joining by invite link, my profile and teams.
    path("volunteer/", views_volunteer.home, name="volunteer-home"),
    path("volunteer/tasks/<str:code>/", views_volunteer.task, name="volunteer-task"),
    path(
        "volunteer/tasks/<str:code>/scan/<str:qr_token>/",
        views_volunteer.task_scan,
        name="volunteer-task-scan",
    ),
    path("volunteer/mine/", views_volunteer.mine, name="volunteer-mine"),
    path("volunteer/join/<str:token>/", views_volunteer.join, name="volunteer-join"),
    path("volunteer/profile/", views_volunteer.profile, name="volunteer-profile"),
    path("volunteer/teams/", views_volunteer.teams, name="volunteer-teams"),
    path("volunteer/photos/<int:pk>/", views.photo, name="volunteer-photo"),
    # Officers: tasks in scope, posting, one task's sign-ups and reviews, the on-site QR.
    path("tasks/", views_staff.tasks_list, name="tasks-list"),
    path("tasks/new/", views_staff.tasks_new, name="tasks-new"),
    path("tasks/<str:code>/", views_staff.tasks_detail, name="tasks-detail"),
    path("tasks/<str:code>/qr/", views_staff.tasks_qr, name="tasks-qr"),
    # Console: teams in scope, a new team, one team (members, approvals, invite QR).
    path("console/volunteers/", views_staff.console_teams, name="console-teams"),
    path("console/volunteers/teams/new/", views_staff.console_team_new, name="console-team-new"),
    path("console/volunteers/teams/<str:code>/", views_staff.console_team, name="console-team"),
]
