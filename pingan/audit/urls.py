from django.urls import path

from . import pages

urlpatterns = [
    path("audit/", pages.search_page, name="audit-search"),
    path("audit/export.xlsx", pages.export_xlsx, name="audit-export"),
    path("audit/<int:seq>/", pages.entry_page, name="audit-entry"),
]
