"""Pages of the planning app (mounted at /planning/), one module per subject (views/)."""

from .views import dashboard

app_name = "planning"

urlpatterns = [*dashboard.urlpatterns]
