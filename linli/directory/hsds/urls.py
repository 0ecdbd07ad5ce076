"""The HSDS 3.0 API at /hsds/ (public data only)."""

urlpatterns: list = []
