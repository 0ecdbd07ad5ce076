"""Spreadsheet pages for community workers: template, import, export."""

from django.urls import path

from . import views

app_name = "spreadsheets"

urlpatterns = [
    path("", views.spreadsheet_page, name="index"),
    path("template.xlsx", views.template_download, name="template"),
    path("export.xlsx", views.export_download, name="export"),
]
