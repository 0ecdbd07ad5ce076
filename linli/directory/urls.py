from django.urls import path

from . import views

app_name = "directory"

urlpatterns = [
    path("services/", views.service_search_page, name="search"),
    path("facilities/<uuid:facility_id>/", views.facility_page, name="facility"),
]
