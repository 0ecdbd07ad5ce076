from django.urls import path

from . import views

urlpatterns = [
    path("residents/", views.ResidentListApi.as_view(), name="resident-list"),
    path("residents/counts", views.ResidentCountsApi.as_view(), name="resident-counts"),
    path("residents/<int:pk>/", views.ResidentDetailApi.as_view(), name="resident-detail"),
    path("residents/<int:pk>/unmask", views.ResidentUnmaskApi.as_view(), name="resident-unmask"),
    path(
        "residents/<int:pk>/consents",
        views.ConsentRecordApi.as_view(),
        name="resident-consent-record",
    ),
    path(
        "residents/<int:pk>/relations",
        views.RelationAddApi.as_view(),
        name="resident-relation-add",
    ),
    path(
        "residents/<int:pk>/corrections",
        views.CorrectionAskApi.as_view(),
        name="resident-correction-ask",
    ),
    path("consents/<int:pk>/withdraw", views.ConsentWithdrawApi.as_view(), name="consent-withdraw"),
    path("households/", views.HouseholdCreateApi.as_view(), name="household-create"),
    path("households/<int:pk>/", views.HouseholdDetailApi.as_view(), name="household-detail"),
    path("me/residents", views.MyResidentsApi.as_view(), name="my-residents"),
    path(
        "me/residents/<int:pk>/download",
        views.MyResidentDownloadApi.as_view(),
        name="my-resident-download",
    ),
    path("corrections/", views.CorrectionListApi.as_view(), name="correction-list"),
    path(
        "corrections/<int:pk>/answer",
        views.CorrectionAnswerApi.as_view(),
        name="correction-answer",
    ),
    path("access-events/", views.AccessEventListApi.as_view(), name="access-event-list"),
    path(
        "access-events/export",
        views.AccessEventExportApi.as_view(),
        name="access-event-export",
    ),
]
