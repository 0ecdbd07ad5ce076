"""Open311 GeoReport v2, included at /open311/v2/. Every resource ends in .json or .xml."""

from django.urls import re_path

from . import views

app_name = "open311"

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(rf"^services{FORMAT}", views.ServiceListView.as_view(), name="services"),
    re_path(
        rf"^services/(?P<service_code>[^/]+?){FORMAT}",
        views.ServiceDefinitionView.as_view(),
        name="service",
    ),
    re_path(rf"^requests{FORMAT}", views.RequestListView.as_view(), name="requests"),
    re_path(
        rf"^requests/(?P<service_request_id>[^/]+?){FORMAT}",
        views.RequestDetailView.as_view(),
        name="request",
    ),
    re_path(rf"^tokens/(?P<token>[^/]+?){FORMAT}", views.TokenView.as_view(), name="token"),
    re_path(r"^(?P<rest>.*)$", views.UnknownResourceView.as_view(), name="unknown"),
]
