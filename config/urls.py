from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from linli.core.middleware import allow_inline_styles
from linli.core.views import healthz

api_v1 = [
    path("", include("linli.accounts.api.urls")),
    path("", include("linli.regions.api.urls")),
    path("", include("linli.directory.api.urls")),
    path("", include("linli.residents.api.urls")),
    path("", include("linli.requests.api.urls")),
    path("", include("linli.volunteers.api.urls")),
    path("", include("linli.evaluations.api.urls")),
    path("", include("linli.incentives.api.urls")),
    path("", include("linli.notifications.api.urls")),
    path("", include("linli.planning.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, as the content security policy
    # asks; Swagger UI still sets inline styles, which only this page allows.
    path(
        "api/docs/",
        allow_inline_styles(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("hsds/", include("linli.directory.hsds.urls")),
    path("directory/spreadsheets/", include("linli.directory.spreadsheets.urls")),
    path("open311/v2/", include("linli.requests.open311.urls")),
    path("regions/", include("linli.regions.urls")),
    path("inbox/", include("linli.notifications.urls")),
    path("planning/", include("linli.planning.urls")),
    path("", include("linli.requests.urls")),
    path("", include("linli.volunteers.urls")),
    path("", include("linli.evaluations.urls")),
    path("", include("linli.incentives.urls")),
    path("residents/register/", include("linli.residents.spreadsheets.urls")),
    path("", include("linli.residents.urls")),
    path("", include("linli.directory.urls")),
    path("", include("linli.accounts.urls")),
]
