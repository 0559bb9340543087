from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("applications/", views.application_list, name="application_list"),
    path(
        "applications/<int:application_id>/",
        views.application_detail,
        name="application_detail",
    ),
    path(
        "applications/<int:application_id>/documents/",
        views.application_documents,
        name="application_documents",
    ),
    path("documents/<int:document_id>/", views.document_detail, name="document_detail"),
    path("fields/<int:field_id>/", views.field_update, name="field_update"),
    path("review/", views.review_queue_view, name="review_queue"),
    path(
        "review/<int:application_id>/",
        views.review_application,
        name="review_application",
    ),
    path("review/export/", views.approved_export_view, name="approved_export"),
    path(
        "review/<int:application_id>/export/",
        views.application_export_view,
        name="application_export",
    ),
    path("history/", views.revision_history_view, name="revision_history"),
    path("history/export.csv", views.revision_history_export, name="revision_history_export"),
    path("history/fields/<int:field_id>/", views.field_timeline, name="field_timeline"),
    path("history/verify/", views.history_verify_start, name="history_verify"),
    path("reports/accuracy/", views.accuracy_view, name="accuracy_report"),
    path("reports/throughput/", views.throughput_view, name="throughput_report"),
]
