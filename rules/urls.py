from django.urls import path

from . import views

urlpatterns = [
    path("", views.rule_list_view, name="rule_list"),
    path("new/", views.rule_create_view, name="rule_create"),
    path("check/", views.rule_check_view, name="rule_check"),
    path("health/", views.rule_health_view, name="rule_health"),
    path("jobs/<int:job_id>/", views.rule_job_view, name="rule_job"),
    path("<slug:key>/", views.rule_edit_view, name="rule_edit"),
]
