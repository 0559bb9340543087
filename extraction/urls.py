from django.urls import path

from . import type_views, views

urlpatterns = [
    path("health/ocr/", views.ocr_health, name="ocr_health"),
    path(
        "documents/<int:document_id>/original/",
        views.document_original,
        name="document_original",
    ),
    path(
        "documents/<int:document_id>/pages/<int:number>/image/",
        views.page_image,
        name="page_image",
    ),
    path("types/", type_views.type_list_view, name="type_list"),
    path("types/new/", type_views.type_create_view, name="type_create"),
    path("types/import/", type_views.type_import_view, name="type_import"),
    path("types/<slug:type_key>/", type_views.type_edit_view, name="type_edit"),
    path("types/<slug:type_key>/yaml/", type_views.type_export_view, name="type_export"),
    path(
        "types/<slug:type_key>/versions/<int:number>/",
        type_views.type_version_view,
        name="type_version",
    ),
]
