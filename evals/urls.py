from django.urls import path

from . import views

urlpatterns = [
    path("types/<slug:type_key>/samples/", views.type_accuracy_view, name="type_accuracy"),
    path(
        "types/<slug:type_key>/samples/check/",
        views.type_accuracy_job_view,
        name="type_accuracy_job",
    ),
]
