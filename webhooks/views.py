"""The admin's webhook screens: endpoints, their secret, their deliveries and each attempt.

Admins only (the permission of the other admin screens: ``applications.audit_history``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import EndpointForm
from .models import Delivery, Endpoint
from .services import (
    delivery_resend,
    endpoint_create,
    endpoint_rotate_secret,
    endpoint_secret_shown,
    endpoint_update,
)
from .tasks import deliveries_enqueue

admin_required = permission_required("applications.audit_history", raise_exception=True)
DELIVERIES_PER_PAGE = 50
# The session key that carries a new secret to the one page that shows it after creation.
NEW_SECRET = "webhooks.new_secret"  # noqa: S105 - a session key


def _form_errors(form, error: ValidationError) -> None:
    for message in error.messages:
        form.add_error("url", message)


@login_required
@admin_required
@require_GET
def webhook_list_view(request):
    endpoints = Endpoint.objects.all()
    page = Paginator(endpoints, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/list.html",
        {"rows": page.object_list, "page_obj": page, "nav": "webhooks"},
    )


@login_required
@admin_required
@require_http_methods(["GET", "POST"])
def webhook_create_view(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = endpoint_create(
                url=data["url"],
                events=data["events"],
                description=data["description"],
                actor=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            request.session[NEW_SECRET] = endpoint.pk
            messages.success(request, "Endpoint added. Copy its signing secret now.")
            return redirect("webhook_detail", endpoint_id=endpoint.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "webhooks/edit.html", {"form": form, "nav": "webhooks"}, status=status)


@login_required
@admin_required
@require_http_methods(["GET", "POST"])
def webhook_detail_view(request, endpoint_id: int):
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                endpoint_update(
                    endpoint=endpoint,
                    url=data["url"],
                    events=data["events"],
                    description=data["description"],
                    is_active=data["is_active"],
                    actor=request.user,
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, "Endpoint saved.")
                return redirect("webhook_detail", endpoint_id=endpoint.pk)
        status = 400
    show_secret = request.session.pop(NEW_SECRET, None) == endpoint.pk
    deliveries = endpoint.deliveries.all()
    wanted = request.GET.get("status", "")
    if wanted in Delivery.Status.values:
        deliveries = deliveries.filter(status=wanted)
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/endpoint.html",
        {
            "endpoint": endpoint,
            "form": form,
            "show_secret": show_secret,
            "deliveries": page.object_list,
            "page_obj": page,
            "statuses": Delivery.Status.choices,
            "wanted_status": wanted,
            "querystring": urlencode({"status": wanted}) if wanted else "",
            "nav": "webhooks",
        },
        status=status,
    )


@login_required
@admin_required
@require_POST
def webhook_secret_view(request, endpoint_id: int):
    """POST ``reveal``: show the secret once more on the next page; ``rotate``: a new one."""
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    if "rotate" in request.POST:
        endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
        messages.success(
            request, "A new signing secret is in use from now on. Give it to the receiver."
        )
    else:
        endpoint_secret_shown(endpoint=endpoint, actor=request.user)
    request.session[NEW_SECRET] = endpoint.pk
    return redirect("webhook_detail", endpoint_id=endpoint.pk)


@login_required
@admin_required
@require_GET
def webhook_delivery_view(request, delivery_id: int):
    delivery = get_object_or_404(
        Delivery.objects.select_related("endpoint", "resent_by"), pk=delivery_id
    )
    return render(
        request,
        "webhooks/delivery.html",
        {"delivery": delivery, "attempts": delivery.attempts.all(), "nav": "webhooks"},
    )


@login_required
@admin_required
@require_POST
def webhook_resend_view(request, delivery_id: int):
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    try:
        delivery_resend(delivery=delivery, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        deliveries_enqueue([delivery.pk])
        messages.success(request, "Sending it again now.")
    return redirect("webhook_delivery", delivery_id=delivery.pk)
