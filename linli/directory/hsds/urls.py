"""The HSDS 3.0 API at /hsds/ (public data only).

HSDS paths have no trailing slash; both spellings are answered, without a redirect.
"""

from django.urls import path, re_path

from . import views

app_name = "hsds"

ID = r"(?P<id>[^/]+)"

urlpatterns = [
    path("", views.RootApi.as_view(), name="root"),
    re_path(r"^openapi\.json$", views.OpenApiDocumentApi.as_view(), name="openapi"),
    re_path(r"^schema/(?P<name>[a-z_/]+\.json)$", views.SchemaFileApi.as_view(), name="schema"),
    re_path(r"^services/?$", views.ServiceListApi.as_view(), name="services"),
    re_path(rf"^services/{ID}/?$", views.ServiceDetailApi.as_view(), name="service"),
    re_path(r"^organizations/?$", views.OrganizationListApi.as_view(), name="organizations"),
    re_path(rf"^organizations/{ID}/?$", views.OrganizationDetailApi.as_view(), name="organization"),
    re_path(
        r"^service_at_locations/?$",
        views.ServiceAtLocationListApi.as_view(),
        name="service_at_locations",
    ),
    re_path(
        rf"^service_at_locations/{ID}/?$",
        views.ServiceAtLocationDetailApi.as_view(),
        name="service_at_location",
    ),
    re_path(r"^taxonomies/?$", views.TaxonomyListApi.as_view(), name="taxonomies"),
    re_path(rf"^taxonomies/{ID}/?$", views.TaxonomyDetailApi.as_view(), name="taxonomy"),
    re_path(r"^taxonomy_terms/?$", views.TaxonomyTermListApi.as_view(), name="taxonomy_terms"),
    re_path(
        rf"^taxonomy_terms/{ID}/?$", views.TaxonomyTermDetailApi.as_view(), name="taxonomy_term"
    ),
]
