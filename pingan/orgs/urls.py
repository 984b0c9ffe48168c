from django.urls import path

from . import views

urlpatterns = [path("console/grids/import/", views.grid_import, name="console-grid-import")]
