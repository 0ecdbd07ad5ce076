from django.urls import path

from . import views

urlpatterns = [
    path("ping", views.PingApi.as_view(), name="ping"),
    path("requests/", views.RequestListApi.as_view(), name="request-list"),
    path("requests/counts", views.RequestCountsApi.as_view(), name="request-counts"),
    path("requests/<str:public_id>/", views.RequestDetailApi.as_view(), name="request-detail"),
    path(
        "requests/<str:public_id>/timeline",
        views.RequestTimelineApi.as_view(),
        name="request-timeline",
    ),
    path(
        "requests/<str:public_id>/transitions",
        views.RequestTransitionApi.as_view(),
        name="request-transition",
    ),
    path(
        "requests/<str:public_id>/assign",
        views.RequestAssignApi.as_view(),
        name="request-assign",
    ),
    path(
        "requests/<str:public_id>/candidates",
        views.RequestCandidatesApi.as_view(),
        name="request-candidates",
    ),
    path(
        "requests/<str:public_id>/attachments",
        views.RequestAttachmentListApi.as_view(),
        name="request-attachments",
    ),
    path(
        "requests/<str:public_id>/attachments/<int:pk>",
        views.RequestAttachmentFileApi.as_view(),
        name="request-attachment-file",
    ),
    path("responders/", views.ResponderListApi.as_view(), name="responder-list"),
    path("responders/me", views.ResponderMeApi.as_view(), name="responder-me"),
    path("tasks", views.TaskListApi.as_view(), name="task-list"),
]
