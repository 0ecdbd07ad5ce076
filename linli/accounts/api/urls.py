from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenLoginApi.as_view(), name="auth-token"),
    path("auth/logout/", views.TokenLogoutApi.as_view(), name="auth-logout"),
]
