from django.urls import path

from . import views

urlpatterns = [
    path("", views.webhook_list_view, name="webhook_list"),
    path("new/", views.webhook_create_view, name="webhook_create"),
    path("<int:endpoint_id>/", views.webhook_detail_view, name="webhook_detail"),
    path("<int:endpoint_id>/secret/", views.webhook_secret_view, name="webhook_secret"),
    path("deliveries/<int:delivery_id>/", views.webhook_delivery_view, name="webhook_delivery"),
    path(
        "deliveries/<int:delivery_id>/resend/",
        views.webhook_resend_view,
        name="webhook_resend",
    ),
]
