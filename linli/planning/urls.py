"""Pages of the planning app (mounted at /planning/), one module per subject (views/)."""

from .views import dashboard

app_name = "planning"

urlpatterns = [*dashboard.urlpatterns]

from .views import sites as _sites  # noqa: E402  (where to build next)

urlpatterns += _sites.urlpatterns

from .views import access as _access  # noqa: E402  (accessibility runs and maps)

urlpatterns += _access.urlpatterns

from .views import reports as _reports  # noqa: E402  (report downloads)

urlpatterns += _reports.urlpatterns
