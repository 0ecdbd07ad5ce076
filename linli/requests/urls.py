from django.urls import path

from . import views

app_name = "requests"

urlpatterns = [
    path("requests/", views.my_requests, name="mine"),
    path("requests/new/", views.ask_service, name="ask"),
    path("requests/new/when/", views.ask_when, name="ask_when"),
    path("requests/new/confirm/", views.ask_confirm, name="ask_confirm"),
    path("requests/counts/", views.counts_page, name="counts"),
    path("requests/<str:public_id>/", views.request_detail, name="detail"),
    path("tasks/", views.tasks_page, name="tasks"),
    path("tasks/<str:public_id>/", views.task_step, name="task_step"),
    path("dispatch/", views.board, name="board"),
    path("dispatch/round/", views.dispatch_round_now, name="round"),
    path("dispatch/call/", views.call, name="call"),
    path("dispatch/<str:public_id>/assign/", views.assign, name="assign"),
]
