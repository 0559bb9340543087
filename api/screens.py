"""The admin's screen for API keys: create (the key is shown once), list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .forms import ApiKeyForm
from .models import ApiKey
from .services import api_key_create, api_key_revoke

admin_required = permission_required("applications.audit_history", raise_exception=True)
KEYS_PER_PAGE = 50


# The new key's secret waits in the admin's session for the one page that shows it, so that
# reloading that page neither shows it again nor creates a second key.
NEW_KEY_SESSION_NAME = "api_key_secret"


@login_required
@admin_required
@require_http_methods(["GET", "POST"])
def api_key_list(request):
    """Every key, newest first, and the form that creates one. A new key's secret is shown on
    the next page only, then forgotten."""
    form = ApiKeyForm(request.POST or None, initial={"user": request.user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = api_key_create(
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                user=form.cleaned_data["user"],
                actor=request.user,
            )
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            request.session[NEW_KEY_SESSION_NAME] = {"id": created.pk, "secret": secret}
            return redirect("api_key_list")
    shown = request.session.pop(NEW_KEY_SESSION_NAME, None) if request.method == "GET" else None
    created = ApiKey.objects.filter(pk=shown["id"]).first() if shown else None
    keys = ApiKey.objects.select_related("user", "created_by", "revoked_by")
    page_obj = Paginator(keys, KEYS_PER_PAGE).get_page(request.GET.get("page"))
    response = render(
        request,
        "api/keys.html",
        {
            "form": form,
            "page_obj": page_obj,
            "secret": shown["secret"] if created else None,
            "created": created,
            "nav": "api",
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@admin_required
@require_POST
def api_key_revoke_view(request, key_id: int):
    key = get_object_or_404(ApiKey, pk=key_id)
    api_key_revoke(key=key, actor=request.user)
    messages.success(request, f"The key “{key.name}” ({key.prefix}) is revoked; it works no more.")
    return redirect("api_key_list")
