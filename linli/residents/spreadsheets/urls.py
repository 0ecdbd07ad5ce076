"""The residents register in Excel, for community workers: template, import, export."""

from django.urls import path

from . import views

app_name = "register"

urlpatterns = [
    path("", views.register_page, name="index"),
    path("template.xlsx", views.template_download, name="template"),
    path("export.xlsx", views.export_download, name="export"),
]
