from django.urls import path

from . import views

urlpatterns = [
    path("inbox", views.InboxApi.as_view(), name="inbox"),
    path("inbox/read-all", views.InboxReadAllApi.as_view(), name="inbox-read-all"),
    path(
        "inbox/<int:notification_id>/read", views.NotificationReadApi.as_view(), name="inbox-read"
    ),
]
