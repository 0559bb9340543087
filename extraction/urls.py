from django.urls import path

from . import views

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
]
