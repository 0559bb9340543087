"""The REST API over HTTP (Django's test client): every endpoint with the right caller, a
wrong key, a missing scope, a revoked key and the wrong person, and the one error shape."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.hashers import is_password_usable
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from api.models import ApiIntake, ApiKey
from applications.models import Application
from audit.models import Action, AuditEvent
from extraction.models import Document
from tests.factories import png_bytes
from tests.review.conftest import confirm_as_applicant

pytestmark = pytest.mark.django_db

API = "/api/v1"


def body(response) -> dict:
    return json.loads(response.content)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    data = body(response)
    assert set(data) == {"code", "message"}, data
    assert data["message"] and "Traceback" not in data["message"]
    if code:
        assert data["code"] == code, data
    return data


def create_payload(**extra) -> dict:
    return {
        "applicant_email": "new.applicant@example.com",
        "applicant_name": "Nia New",
        "stated_name": "Nia New",
        "stated_employer": "Acme Corp",
        "stated_monthly_income": "4250.00",
        **extra,
    }


def post_json(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def upload(client, application_id, data=None, name="stub.png", **headers):
    return client.post(
        f"{API}/applications/{application_id}/documents",
        {"file": _file(data or png_bytes(text="Pay stub"), name)},
        headers=headers,
    )


def _file(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


# --- Authentication and scopes ------------------------------------------------------------


def test_no_credentials_wrong_key_and_revoked_key_are_refused_with_401(world):
    url = f"{API}/applications"
    assert_error(Client().get(url), 401, "not_authenticated")
    wrong = Client(headers={"Authorization": "Bearer attest_000000000000_nope"})
    assert_error(wrong.get(url), 401, "key_invalid")
    malformed = Client(headers={"Authorization": "Bearer something-else"})
    assert_error(malformed.get(url), 401, "key_invalid")
    # A real prefix with a wrong secret.
    real = world.keys["read"]
    forged = Client(headers={"Authorization": f"Bearer {real[:-4]}AAAA"})
    assert_error(forged.get(url), 401, "key_invalid")
    assert_error(world.client("key:revoked").get(url), 401, "key_revoked")
    # A revoked key is refused everywhere, writes included.
    assert_error(post_json(world.client("key:revoked"), url, create_payload()), 401, "key_revoked")
    assert not Application.objects.filter(owner__email="new.applicant@example.com").exists()


def test_a_key_without_the_scope_is_refused_with_403(world):
    assert_error(
        post_json(world.client("key:read"), f"{API}/applications", create_payload()),
        403,
        "scope_missing",
    )
    decision = {"kind": "reject", "version": "x", "note": "No."}
    url = f"{API}/applications/{world.submitted.pk}/decision"
    for key in ("read", "write"):
        assert_error(post_json(world.client(f"key:{key}"), url, decision), 403, "scope_missing")
    assert world.submitted.decisions.count() == 0
    # The decide scope alone reads (with read) but does not write.
    assert_error(upload(world.client("key:decide"), world.submitted.pk), 403, "scope_missing")


def test_keys_are_stored_hashed_and_used_keys_remember_when(world):
    key = ApiKey.objects.get(name="read")
    secret = world.keys["read"]
    assert secret not in (key.secret_hash, key.prefix)
    assert secret.startswith(f"attest_{key.prefix}_")
    assert key.last_used_at is None
    world.client("key:read").get(f"{API}/applications")
    key.refresh_from_db()
    assert key.last_used_at is not None


# --- Listing ------------------------------------------------------------------------------


def test_a_list_shows_each_caller_what_the_screens_show_them(world):
    def ids(who):
        response = world.client(who).get(f"{API}/applications")
        assert response.status_code == 200, response.content
        return {item["id"] for item in body(response)["items"]}

    both = {world.draft.pk, world.submitted.pk}
    assert ids("owner") == both
    assert ids("other") == set()
    # Staff see an application once it is submitted, and a key sees what its user sees.
    assert ids("reviewer") == {world.submitted.pk}
    assert ids("key:read") == {world.submitted.pk}
    assert ids("key:admin") == {world.submitted.pk}


def test_the_list_pages_with_a_cursor_and_filters(world):
    owner = world.people["owner"]
    made = [Application.objects.create(owner=owner, stated_name=f"A {n}").pk for n in range(5)]
    client = world.client("owner")
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        data = body(client.get(f"{API}/applications", params))
        seen += [item["id"] for item in data["items"]]
        pages += 1
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert seen == sorted([*made, world.draft.pk, world.submitted.pk], reverse=True)
    submitted = body(client.get(f"{API}/applications", {"status": "submitted"}))["items"]
    assert [item["id"] for item in submitted] == [world.submitted.pk]
    by_email = body(client.get(f"{API}/applications", {"applicant_email": "OWNER@example.com"}))
    assert len(by_email["items"]) == 7
    assert_error(client.get(f"{API}/applications", {"cursor": "garbage!"}), 422, "invalid_cursor")
    assert_error(client.get(f"{API}/applications", {"limit": 0}), 422, "invalid")
    assert_error(client.get(f"{API}/applications", {"status": "nope"}), 422, "invalid")


# --- Reading one application ------------------------------------------------------------


def test_an_application_reads_with_documents_fields_evidence_and_who_confirmed(world):
    fields = list(world.submitted.documents.first().fields.order_by("position", "pk"))
    confirm_as_applicant(fields[:1])
    data = body(world.client("key:read").get(f"{API}/applications/{world.submitted.pk}"))
    assert data["reference"] == world.submitted.reference
    (document,) = data["documents"]
    assert [p["number"] for p in document["pages"]] == [1, 2]
    by_key = {f["key"]: f for f in document["fields"]}
    pay_date = by_key["pay_date"]
    assert pay_date["normalized"] == "2026-01-15"
    assert pay_date["page"] == 1 and pay_date["box"] == [0.30, 0.10, 0.45, 0.12]
    assert pay_date["confirmed_by"]["email"] == "owner@example.com"
    assert pay_date["confirmed_by"]["role"] == "applicant"
    assert by_key["gross_pay"]["confirmed_by"] is None
    # Sensitive values are masked for staff, as on the review screen; the grounding is shown.
    ssn = by_key["employee_ssn"]
    assert ssn["value"] == "***-**-6789" and ssn["grounded"] is False
    assert data["review_version"]
    owner_view = body(world.client("owner").get(f"{API}/applications/{world.submitted.pk}"))
    assert {f["key"]: f for f in owner_view["documents"][0]["fields"]}["employee_ssn"][
        "value"
    ] == "123-45-6789"
    assert owner_view["review_version"] is None and owner_view["flags"] == []


def test_someone_elses_application_is_not_found_for_every_reader(world):
    for who, application in (
        ("other", world.draft),
        ("other", world.submitted),
        ("reviewer", world.draft),
        ("key:read", world.draft),
        ("key:admin", world.draft),
    ):
        response = world.client(who).get(f"{API}/applications/{application.pk}")
        assert_error(response, 404, "not_found")
    assert_error(world.client("owner").get(f"{API}/applications/999999"), 404, "not_found")


# --- Creating on an applicant's behalf ------------------------------------------------------


def test_a_key_creates_an_application_for_a_new_applicant_who_is_invited(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(world.client("key:write"), f"{API}/applications", create_payload())
    assert response.status_code == 201, response.content
    data = body(response)
    application = Application.objects.get(pk=data["id"])
    applicant = User.objects.get(email="new.applicant@example.com")
    assert application.owner == applicant and str(application.stated_monthly_income) == "4250.00"
    # The account exists without a password; the invitation links to allauth's set-password page.
    assert not is_password_usable(applicant.password)
    assert applicant.emailaddress_set.get().verified is False
    (invitation,) = [m for m in mail.outbox if application.reference in m.subject]
    assert invitation.to == ["new.applicant@example.com"]
    assert "/accounts/password/reset/key/" in invitation.body
    # The trail names the key's user as the creator and says it came through the API.
    event = AuditEvent.objects.get(action=Action.APPLICATION_CREATED, application_id=application.pk)
    assert event.actor == world.people["reviewer"] and "api key" in event.data["via"]
    assert ApiIntake.objects.filter(application=application).exists()
    # The integration reads its own draft; another integration does not.
    assert world.client("key:read").get(f"{API}/applications/{application.pk}").status_code == 200
    assert_error(
        world.client("key:other_reviewer").get(f"{API}/applications/{application.pk}"), 404
    )


def test_an_existing_applicant_is_not_given_a_second_account(world):
    response = post_json(
        world.client("key:write"),
        f"{API}/applications",
        create_payload(applicant_email="Owner@Example.com"),
    )
    assert response.status_code == 201
    assert Application.objects.get(pk=body(response)["id"]).owner == world.people["owner"]
    assert User.objects.filter(email__iexact="owner@example.com").count() == 1


def test_signed_in_people_create_only_their_own_applications(world):
    client = world.client("owner")
    mine = post_json(client, f"{API}/applications", create_payload(applicant_email=None))
    assert mine.status_code == 201
    assert Application.objects.get(pk=body(mine)["id"]).owner == world.people["owner"]
    assert_error(post_json(client, f"{API}/applications", create_payload()), 403, "not_allowed")
    # An application is for an applicant, not a staff account.
    assert_error(
        post_json(
            world.client("key:write"),
            f"{API}/applications",
            create_payload(applicant_email="reviewer2@example.com"),
        ),
        422,
        "invalid",
    )


def test_a_bad_body_is_a_422_in_the_error_shape(world):
    client = world.client("key:write")
    assert_error(post_json(client, f"{API}/applications", {"stated_name": ""}), 422, "invalid")
    assert_error(
        post_json(client, f"{API}/applications", create_payload(stated_monthly_income="1e9")),
        422,
        "invalid",
    )
    assert_error(
        post_json(client, f"{API}/applications", create_payload(applicant_email="a@b")),
        422,
        "invalid",
    )
    not_json = client.post(f"{API}/applications", data="{", content_type="application/json")
    assert_error(not_json, 400, "bad_request")
    huge = create_payload(title="x" * 6_000_000)
    assert_error(post_json(client, f"{API}/applications", huge), 413, "too_large")
    # NUL characters never reach the database.
    ok = post_json(client, f"{API}/applications", create_payload(stated_name="Nia\x00 New"))
    assert ok.status_code == 201 and body(ok)["stated_name"] == "Nia New"


# --- Uploads --------------------------------------------------------------------------------


def test_the_applicant_uploads_with_the_session_and_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.people["owner"])
    assert_error(upload(client, world.draft.pk), 403, "csrf_failed")
    client.get(reverse("application_list"))  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = upload(client, world.draft.pk, **{"X-CSRFToken": token})
    assert response.status_code == 201, response.content
    document = Document.objects.get(pk=body(response)["id"])
    assert document.application == world.draft and document.uploaded_by == world.people["owner"]
    assert document.status == Document.Status.QUEUED and document.media_type == "image/png"


def test_uploads_are_checked_like_the_form(world):
    client = world.client("owner")
    assert_error(
        upload(client, world.draft.pk, data=b"not a document"), 422, "upload_unsupported_type"
    )
    first = upload(client, world.draft.pk, data=png_bytes(text="one"))
    assert first.status_code == 201
    assert_error(
        upload(client, world.draft.pk, data=png_bytes(text="one")), 422, "upload_duplicate"
    )
    no_file = client.post(f"{API}/applications/{world.draft.pk}/documents", {})
    assert_error(no_file, 422, "invalid")
    typed = client.post(
        f"{API}/applications/{world.draft.pk}/documents",
        {"file": _file(png_bytes(text="two"), "b.png"), "document_type": "no_such_type"},
    )
    assert_error(typed, 422, "invalid")
    # A submitted application takes no more documents.
    assert_error(upload(client, world.submitted.pk), 409, "application_locked")


def test_uploads_over_the_size_limit_are_refused_with_413(world, settings):
    settings.UPLOAD_MAX_BYTES = 2_000
    response = upload(world.client("owner"), world.draft.pk, data=png_bytes(size=(400, 400)) * 4)
    assert_error(response, 413, "too_large")


def test_only_the_applicant_or_the_creating_integration_may_upload(world):
    # A key sees the submitted application but it is not its to change; the draft is invisible.
    assert_error(upload(world.client("key:write"), world.submitted.pk), 403, "not_allowed")
    assert_error(upload(world.client("key:write"), world.draft.pk), 404, "not_found")
    assert_error(upload(world.client("other"), world.draft.pk), 404, "not_found")
    assert_error(upload(world.client("reviewer"), world.submitted.pk), 403, "not_allowed")
    created = post_json(world.client("key:write"), f"{API}/applications", create_payload())
    application_id = body(created)["id"]
    response = upload(world.client("key:write"), application_id)
    assert response.status_code == 201, response.content
    assert_error(upload(world.client("key:other_reviewer"), application_id), 404)


# --- Pages ----------------------------------------------------------------------------------


def test_page_images_are_listed_and_served_to_who_may_see_them(world):
    document = world.submitted.documents.first()
    pages = world.client("key:read").get(f"{API}/documents/{document.pk}/pages")
    assert pages.status_code == 200
    (first, second) = body(pages)
    image = world.client("key:read").get(first["image_url"])
    assert image.status_code == 200 and image["Content-Type"].startswith("image/")
    assert b"".join(image.streaming_content)[:4] == b"\x89PNG"
    draft_document = world.draft.documents.first()
    for who in ("key:read", "other"):
        assert_error(world.client(who).get(f"{API}/documents/{draft_document.pk}/pages"), 404)
        url = f"{API}/documents/{draft_document.pk}/pages/1/image"
        assert_error(world.client(who).get(url), 404)
    assert_error(world.client("owner").get(f"{API}/documents/{document.pk}/pages/9/image"), 404)


# --- The trail ------------------------------------------------------------------------------


def test_the_trail_is_for_admins_as_on_the_history_screen(world):
    response = post_json(world.client("key:write"), f"{API}/applications", create_payload())
    application_id = body(response)["id"]
    world.client("key:admin")  # the admin's key reads every application's trail it can see
    events_url = f"{API}/applications/{world.submitted.pk}/events"
    assert world.client("key:admin").get(events_url).status_code == 200
    assert world.client("admin").get(events_url).status_code == 200
    for who in ("key:read", "reviewer", "owner", "other"):
        assert_error(world.client(who).get(events_url), 404)
    # An admin's key sees the creation event of an application it can see.
    admin_key = world.client("key:admin")
    created = post_json(
        admin_key, f"{API}/applications", create_payload(applicant_email="x@example.com")
    )
    data = body(admin_key.get(f"{API}/applications/{body(created)['id']}/events"))
    assert [e["action"] for e in data["items"]] == ["application.created"]
    assert data["items"][0]["actor"]["email"] == "admin@example.com"
    assert application_id


# --- Decisions ------------------------------------------------------------------------------


def _version(world, who="key:decide") -> str:
    return body(world.client(who).get(f"{API}/applications/{world.submitted.pk}"))["review_version"]


def test_a_decision_goes_through_the_review_service_and_names_the_key(world):
    url = f"{API}/applications/{world.submitted.pk}/decision"
    client = world.client("key:decide")
    assert_error(
        post_json(client, url, {"kind": "reject", "version": _version(world)}), 422, "note_required"
    )
    assert_error(
        post_json(client, url, {"kind": "reject", "version": "stale", "note": "No."}),
        409,
        "stale_version",
    )
    response = post_json(
        client, url, {"kind": "reject", "version": _version(world), "note": "Forged."}
    )
    assert response.status_code == 201, response.content
    assert body(response)["kind"] == "reject"
    world.submitted.refresh_from_db()
    assert world.submitted.status == Application.Status.REJECTED
    decision = world.submitted.decisions.get()
    assert decision.reviewer == world.people["reviewer"]
    used = AuditEvent.objects.get(action=Action.API_KEY_USED)
    assert used.application_id == world.submitted.pk and used.data["decision"] == "reject"
    assert used.data["prefix"] == ApiKey.objects.get(name="decide").prefix
    # Decided: a second decision is refused, whoever sends it.
    again = post_json(client, url, {"kind": "approve", "version": "whatever it was"})
    assert_error(again, 409, "not_open_to_you")


def test_an_approval_needs_every_value_checked_as_on_the_screen(world):
    fields = list(world.submitted.documents.first().fields.all())
    url = f"{API}/applications/{world.submitted.pk}/decision"
    client = world.client("key:decide")
    refused = post_json(client, url, {"kind": "approve", "version": _version(world)})
    assert refused.status_code == 422
    confirm_as_applicant(fields)
    response = post_json(client, url, {"kind": "approve", "version": _version(world)})
    assert response.status_code == 201, response.content
    world.submitted.refresh_from_db()
    assert world.submitted.status == Application.Status.APPROVED


def test_decisions_by_the_wrong_person_change_nothing(world):
    url = f"{API}/applications/{world.submitted.pk}/decision"
    version = _version(world)
    decision = {"kind": "reject", "version": version, "note": "No."}
    # The applicant sees their application but is not a reviewer.
    assert_error(post_json(world.client("owner"), url, decision), 403, "not_allowed")
    assert_error(post_json(world.client("other"), url, decision), 404)
    draft_url = f"{API}/applications/{world.draft.pk}/decision"
    assert_error(post_json(world.client("key:decide"), draft_url, decision), 404)
    # Another reviewer holds the claim: the key's reviewer is refused with their name.
    world.submitted.assigned_to = world.people["reviewer2"]
    world.submitted.status = Application.Status.IN_REVIEW
    world.submitted.save()
    refused = post_json(world.client("key:decide"), url, {**decision, "version": _version(world)})
    holder = world.people["reviewer2"].full_name
    assert holder in assert_error(refused, 409, "not_open_to_you")["message"]
    assert world.submitted.decisions.count() == 0


# --- Errors: one shape ----------------------------------------------------------------------


def test_every_error_has_the_one_shape(world, settings, monkeypatch):
    client = world.client("key:read")
    assert_error(client.get("/api/v1/nowhere"), 404, "not_found")
    assert_error(client.get("/api/v2/applications"), 404, "not_found")
    assert_error(client.delete(f"{API}/applications"), 405, "method_not_allowed")
    assert_error(client.get(f"{API}/applications/0"), 422, "invalid")
    assert_error(client.get(f"{API}/applications/{2**63}"), 422, "invalid")

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api.views.application_page", broken)
    crashed = assert_error(client.get(f"{API}/applications"), 500, "server_error")
    assert "secret" not in crashed["message"]


def test_a_key_is_rate_limited_on_its_own(world, settings):
    settings.API_RATE_LIMIT = "3/min"
    client = world.client("key:read")
    answers = [client.get(f"{API}/applications").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = client.get(f"{API}/applications")
    assert_error(limited, 429, "rate_limited")
    assert int(limited["Retry-After"]) > 0
    # Another key (the same person's) has its own allowance.
    assert world.client("key:write").get(f"{API}/applications").status_code == 200


def test_staff_without_an_authenticator_are_told_in_json(world, settings):
    settings.ATTEST_REQUIRE_STAFF_MFA = True
    assert_error(world.client("reviewer").get(f"{API}/applications"), 403, "mfa_required")
    # A key is its own factor.
    assert world.client("key:read").get(f"{API}/applications").status_code == 200


def test_the_openapi_description_and_its_docs_page_are_served(world):
    schema = Client().get(f"{API}/openapi.json")
    assert schema.status_code == 200
    paths = body(schema)["paths"]
    assert f"{API}/applications/{{application_id}}/decision" in paths
    docs = Client().get(f"{API}/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
