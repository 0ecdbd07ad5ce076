from django.urls import path

from . import views

app_name = "regions"

urlpatterns = [
    path("", views.region_browser, name="browser"),
    path("<str:code>/", views.region_detail, name="detail"),
]
