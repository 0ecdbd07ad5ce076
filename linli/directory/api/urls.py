from django.urls import path

from . import views

urlpatterns = [
    path("services/search", views.ServiceSearchApi.as_view(), name="service-search"),
]
