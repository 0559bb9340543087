from django.urls import path, re_path

from . import screens
from .middleware import api_not_found
from .views import api

urlpatterns = [
    path("api/v1/", api.urls),
    # Anything else under /api/ answers in the API's error shape, not with an HTML page.
    re_path(r"^api/(?P<rest>.*)$", api_not_found, name="api_not_found"),
    path("api-keys/", screens.api_key_list, name="api_key_list"),
    path("api-keys/<int:key_id>/revoke/", screens.api_key_revoke_view, name="api_key_revoke"),
]
