"""Pages of the incentives app, one module per subject (linli/incentives/views/)."""

from .views import budgets

app_name = "incentives"

urlpatterns = [*budgets.urlpatterns]
