"""Pages of the incentives app, one module per subject (linli/incentives/views/)."""

from .views import budgets, funds

app_name = "incentives"

urlpatterns = [*budgets.urlpatterns, *funds.urlpatterns]
