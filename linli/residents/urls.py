from django.urls import path

from . import views

app_name = "residents"

urlpatterns = [
    path("residents/", views.resident_list, name="list"),
    path("residents/counts/", views.resident_counts, name="counts"),
    path("residents/new/", views.resident_new, name="new"),
    path("residents/<int:resident_id>/", views.resident_card, name="card"),
    path("residents/<int:resident_id>/unmask/", views.resident_unmask_page, name="unmask"),
    path("residents/<int:resident_id>/edit/", views.resident_edit, name="edit"),
    path("residents/households/<int:household_id>/", views.household_page, name="household"),
    path("residents/corrections/", views.corrections_page, name="corrections"),
    path(
        "residents/corrections/<int:correction_id>/answer/",
        views.correction_answer_page,
        name="correction_answer",
    ),
    path(
        "residents/consents/<int:consent_id>/withdraw/",
        views.consent_withdraw_page,
        name="consent_withdraw",
    ),
    path("me/record/", views.my_record, name="my_record"),
    path(
        "me/record/<int:resident_id>/download/",
        views.my_record_download,
        name="my_record_download",
    ),
    path(
        "me/record/<int:resident_id>/correction/",
        views.my_record_correction,
        name="my_record_correction",
    ),
    path("audit/access-events/", views.access_events_page, name="access_events"),
    path(
        "audit/access-events/export.csv",
        views.access_events_export,
        name="access_events_export",
    ),
]
