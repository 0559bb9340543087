"""The screens, driven through HTTP as a browser would, with and without htmx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from extraction.models import Document, Field
from review.models import Decision
from tests.factories import (
    ApplicationFactory,
    FlagFactory,
    SubmittedApplicationFactory,
    UserFactory,
    png_bytes,
)

from .conftest import build_document, page_version

pytestmark = pytest.mark.django_db


def _field(document, key) -> Field:
    return document.fields.get(key=key)


# --- Home -------------------------------------------------------------------------------------


def test_home_sends_each_role_to_its_screen(client_for, applicant, reviewer, auditor):
    assert client_for(applicant).get("/")["Location"] == reverse("application_list")
    assert client_for(reviewer).get("/")["Location"] == reverse("review_queue")
    assert client_for(auditor).get("/")["Location"] == reverse("review_queue")


def test_admins_see_the_history_link_and_reviewers_do_not(client_for, reviewer, auditor):
    history = reverse("revision_history")
    assert history in client_for(auditor).get(reverse("review_queue")).content.decode()
    assert history not in client_for(reviewer).get(reverse("review_queue")).content.decode()


# --- Applicant: applications -------------------------------------------------------------------


def test_my_applications_lists_only_mine_and_creates_one(client_for, applicant, document):
    ApplicationFactory(owner=UserFactory(), stated_name="Someone Else")
    client = client_for(applicant)
    page = client.get(reverse("application_list")).content.decode()
    assert document.application.reference in page
    assert "Someone Else" not in page

    response = client.post(
        reverse("application_list"),
        {
            "stated_name": "Dana Example",
            "stated_employer": "Acme",
            "stated_monthly_income": "4100.50",
            "create": "",
        },
    )
    created = Application.objects.filter(owner=applicant).latest("created_at")
    assert response["Location"] == reverse("application_detail", args=[created.pk])
    assert str(created.stated_monthly_income) == "4100.50"


def test_new_application_without_a_name_shows_the_error(client_for, applicant):
    response = client_for(applicant).post(reverse("application_list"), {"stated_name": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_my_applications_paginates_twenty_per_page(client_for, applicant):
    ApplicationFactory.create_batch(21, owner=applicant)
    client = client_for(applicant)
    first = client.get(reverse("application_list"))
    assert len(first.context["page_obj"].object_list) == 20
    assert "Page 1 of 2" in first.content.decode()


def test_application_page_shows_facts_documents_and_problems(client_for, applicant, document):
    response = client_for(applicant).get(
        reverse("application_detail", args=[document.application_id])
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Dana Example" in page
    assert document.original_name in page
    assert "3 values still to confirm or correct." in page
    assert 'name="files"' in page and "multiple" in page
    # Nothing is being read, so the list does not poll.
    assert 'hx-trigger="every 2s"' not in page


def test_the_documents_list_polls_while_a_document_is_read(client_for, applicant, application):
    build_document(application)
    reading, _, _ = build_document(application)
    Document.objects.filter(pk=reading.pk).update(
        status=Document.Status.PROCESSING, pages_done=1, page_count=2
    )
    client = client_for(applicant)
    page = client.get(reverse("application_detail", args=[application.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "Reading page 2 of 2" in page
    assert '<meta http-equiv="refresh"' in page

    partial = client.get(
        reverse("application_documents", args=[application.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert partial.lstrip().startswith('<div id="documents"')
    assert "<html" not in partial
    assert 'hx-trigger="every 2s"' in partial

    Document.objects.filter(pk=reading.pk).update(status=Document.Status.EXTRACTED)
    partial = client.get(reverse("application_documents", args=[application.pk])).content.decode()
    assert 'hx-trigger="every 2s"' not in partial


def test_the_page_reloads_once_when_the_last_document_is_read(client_for, applicant, application):
    reading, _, _ = build_document(application)
    Document.objects.filter(pk=reading.pk).update(status=Document.Status.PROCESSING, page_count=1)
    client = client_for(applicant)
    url = reverse("application_documents", args=[application.pk])
    page = client.get(reverse("application_detail", args=[application.pk])).content.decode()
    assert f'hx-get="{url}?reading=1"' in page

    # Still reading: the list is swapped as before.
    polled = client.get(url, {"reading": "1"}, HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in polled
    assert polled.content.decode().lstrip().startswith('<div id="documents"')

    # Done: the status and the problems box changed too, so htmx reloads the whole page.
    Document.objects.filter(pk=reading.pk).update(status=Document.Status.EXTRACTED)
    polled = client.get(url, {"reading": "1"}, HTTP_HX_REQUEST="true")
    assert polled.status_code == 200
    assert polled["HX-Refresh"] == "true"

    # Without the marker (or without htmx) the list itself is still what comes back.
    for response in (
        client.get(url, HTTP_HX_REQUEST="true"),
        client.get(url, {"reading": "1"}),
    ):
        assert "HX-Refresh" not in response
        assert response.content.decode().lstrip().startswith('<div id="documents"')


def test_a_failed_document_offers_retry_and_replace_with_its_reason(
    client_for, applicant, application
):
    document, _, _ = build_document(application)
    Document.objects.filter(pk=document.pk).update(
        status=Document.Status.FAILED, reason="We could not read this file."
    )
    client = client_for(applicant)
    page = client.get(reverse("application_detail", args=[application.pk])).content.decode()
    assert "We could not read this file." in page
    assert f'name="retry" value="{document.pk}"' in page
    assert f'name="replace" value="{document.pk}"' in page

    response = client.post(
        reverse("application_detail", args=[application.pk]), {"retry": document.pk}
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == Document.Status.QUEUED


def test_upload_stores_good_files_and_explains_each_rejected_one(
    client_for, applicant, application
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [
        SimpleUploadedFile("stub.png", png_bytes((300, 200)), content_type="image/png"),
        SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"),
        SimpleUploadedFile("notes.txt", b"hello there", content_type="text/plain"),
    ]
    response = client_for(applicant).post(
        reverse("application_detail", args=[application.pk]),
        {"files": files, "document_type": "", "upload": ""},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert application.documents.count() == 1
    assert "2 files could not be uploaded" in page
    assert "“empty.pdf” is empty" in page
    assert "1 file uploaded. We are reading it now." in page


def test_uploading_several_files_says_them(client_for, applicant, application):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [
        SimpleUploadedFile(f"stub{n}.png", png_bytes((300, 200 + n)), content_type="image/png")
        for n in range(2)
    ]
    response = client_for(applicant).post(
        reverse("application_detail", args=[application.pk]),
        {"files": files, "document_type": "", "upload": ""},
        follow=True,
    )
    assert "2 files uploaded. We are reading them now." in response.content.decode()


def test_upload_without_files_says_so(client_for, applicant, application):
    response = client_for(applicant).post(
        reverse("application_detail", args=[application.pk]), {"upload": ""}
    )
    assert "Choose at least one file to upload." in response.content.decode()


def test_submit_with_pending_fields_shows_the_problems(client_for, applicant, document):
    response = client_for(applicant).post(
        reverse("application_detail", args=[document.application_id]), {"submit": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Not submitted yet" in page
    assert "3 values still to confirm or correct." in page
    document.application.refresh_from_db()
    assert document.application.status == Application.Status.AWAITING_APPLICANT


def test_submit_when_everything_is_checked_makes_the_page_read_only(
    client_for, applicant, document
):
    client = client_for(applicant)
    client.post(reverse("document_detail", args=[document.pk]), {"confirm_all": ""})
    url = reverse("application_detail", args=[document.application_id])
    summary = client.post(url, {"submit": ""})
    assert summary.status_code == 200
    assert "You confirmed every value as we read it" in summary.content.decode()
    document.application.refresh_from_db()
    assert document.application.status == Application.Status.AWAITING_APPLICANT
    response = client.post(url, {"submit": "", "confirm_submit": "1"})
    assert response.status_code == 302
    document.application.refresh_from_db()
    assert document.application.status == Application.Status.SUBMITTED
    page = client.get(response["Location"]).content.decode()
    assert "Submitted" in page
    assert 'name="upload"' not in page
    values = client.get(reverse("document_detail", args=[document.pk])).content.decode()
    assert 'name="save"' not in values
    assert "readonly" in values


def test_the_reviewers_request_for_changes_is_shown_to_the_applicant(
    client_for, applicant, reviewer, submitted
):
    staff = client_for(reviewer)
    staff.post(
        reverse("review_application", args=[submitted.pk]),
        {
            "decide": "request_changes",
            "note": "Please upload your March pay stub.",
            "allow_uploads": "1",
            "version": page_version(staff, submitted),
        },
    )
    page = client_for(applicant).get(reverse("application_detail", args=[submitted.pk]))
    text = page.content.decode()
    assert "The reviewer asked for changes" in text
    assert "Please upload your March pay stub." in text


# --- Applicant: checking values ----------------------------------------------------------------


def test_document_page_shows_the_page_boxes_and_masks_sensitive_values(
    client_for, applicant, document
):
    response = client_for(applicant).get(reverse("document_detail", args=[document.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("page_image", args=[document.pk, 1]) in page
    assert "left:30.000%;top:10.000%;width:15.000%;height:2.000%" in page
    assert "Page 2" in page
    # The owner sees the full number inside the input; nowhere else.
    assert page.count("123-45-6789") == 1
    assert "Not found on the page" in page
    assert "Confirm all remaining" in page


def test_a_correction_appends_a_revision_and_keeps_the_machines_value(
    client_for, applicant, document
):
    field = _field(document, "gross_pay")
    response = client_for(applicant).post(
        reverse("field_update", args=[field.pk]),
        {"value": "4,300.00", "reason": "Typo in the reading", "save": "1", "page": "1"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"?page=1#field-{field.pk}")
    field.refresh_from_db()
    assert field.value == "4,300.00"
    assert field.machine_value == "$4,250.00"
    assert field.status == Field.Status.CORRECTED
    latest = field.revisions.order_by("-number").first()
    assert (latest.number, latest.role, latest.reason) == (2, "applicant", "Typo in the reading")


def test_an_invalid_date_shows_the_error_and_keeps_what_was_typed(client_for, applicant, document):
    field = _field(document, "pay_date")
    response = client_for(applicant).post(
        reverse("field_update", args=[field.pk]), {"value": "12/45/2026", "save": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "12/45/2026 is not a date when read month first" in page
    assert 'value="12/45/2026"' in page
    assert field.revisions.count() == 1


def test_htmx_save_swaps_only_the_fields_row(client_for, applicant, document):
    field = _field(document, "pay_date")
    client = client_for(applicant)
    ok = client.post(
        reverse("field_update", args=[field.pk]),
        {"value": "01/16/2026", "save": "1"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert ok.lstrip().startswith(f'<div class="field-row status-corrected" id="field-{field.pk}"')
    assert "<html" not in ok

    bad = client.post(
        reverse("field_update", args=[field.pk]),
        {"value": "not a date", "save": "1"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Enter a date such as 01/15/2026." in bad
    assert 'value="not a date"' in bad


def test_confirm_keeps_the_value_and_records_who_checked_it(client_for, applicant, document):
    field = _field(document, "gross_pay")
    client_for(applicant).post(
        reverse("field_update", args=[field.pk]), {"value": field.value, "confirm": "1"}
    )
    field.refresh_from_db()
    assert field.status == Field.Status.CONFIRMED
    assert field.revisions.order_by("-number").first().action == "confirmed"


def test_confirm_all_confirms_the_rest(client_for, applicant, document):
    _field(document, "pay_date")
    client = client_for(applicant)
    client.post(
        reverse("field_update", args=[_field(document, "pay_date").pk]),
        {"value": "01/16/2026", "save": "1"},
    )
    response = client.post(reverse("document_detail", args=[document.pk]), {"confirm_all": ""})
    assert response.status_code == 302
    statuses = dict(document.fields.values_list("key", "status"))
    assert statuses == {
        "pay_date": "corrected",
        "gross_pay": "confirmed",
        "employee_ssn": "confirmed",
    }
    page = client.get(response["Location"]).content.decode()
    assert "2 values confirmed." in page


# --- Reviewer ----------------------------------------------------------------------------------


def test_queue_lists_submitted_work_with_filters(client_for, reviewer, submitted, application):
    Application.objects.filter(pk=submitted.pk).update(
        submitted_at=timezone.now() - timedelta(hours=3)
    )
    client = client_for(reviewer)
    page = client.get(reverse("review_queue")).content.decode()
    assert submitted.reference in page
    assert application.reference not in page  # not submitted yet
    assert "3\xa0hours" in page
    mine = client.get(reverse("review_queue"), {"assigned": "me"}).content.decode()
    assert submitted.reference not in mine
    nobody = client.get(reverse("review_queue"), {"assigned": "none"}).content.decode()
    assert submitted.reference in nobody


def test_review_page_shows_flags_values_and_evidence(client_for, reviewer, applicant, submitted):
    document = submitted.documents.get()
    field = _field(document, "gross_pay")
    FlagFactory(application=submitted, document=document, field=field)
    response = client_for(reviewer).get(reverse("review_application", args=[submitted.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Income does not match" in page
    assert "High" in page
    assert f'href="#field-{field.pk}"' in page
    assert 'name="claim"' in page
    assert reverse("document_original", args=[document.pk]) in page
    assert "***-**-6789" in page
    assert "123-45-6789" not in page


def _row(page: str, field) -> str:
    """The field's row on the review page (without the correction form under it)."""
    start = page.index(f'id="field-{field.pk}"')
    return page[start : page.index("</tr>", start)]


def test_review_page_shows_the_applicants_value_only_where_they_changed_it(
    client_for, reviewer, applicant, application, document
):
    client = client_for(applicant)
    gross_pay, pay_date = _field(document, "gross_pay"), _field(document, "pay_date")
    client.post(reverse("field_update", args=[gross_pay.pk]), {"value": "4,300.00", "save": "1"})
    client.post(
        reverse("field_update", args=[pay_date.pk]), {"value": pay_date.value, "confirm": "1"}
    )
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.SUBMITTED, submitted_at=timezone.now()
    )

    page = client_for(reviewer).get(reverse("review_application", args=[application.pk]))
    page = page.content.decode()
    changed = _row(page, gross_pay)
    assert "is-changed" in changed
    assert changed.count("4,300.00") == 2  # the applicant's value and the current value
    confirmed = _row(page, pay_date)
    assert "is-changed" not in confirmed
    assert "Confirmed" in confirmed
    assert confirmed.count("01/15/2026") == 2  # the machine's and the current value only
    untouched = _row(page, _field(document, "employee_ssn"))
    assert "is-changed" not in untouched
    assert "has not checked this value" in untouched


def test_reviewer_claims_corrects_and_approves(client_for, reviewer, submitted):
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    client.post(url, {"claim": ""})
    submitted.refresh_from_db()
    assert submitted.assigned_to == reviewer
    assert submitted.status == Application.Status.IN_REVIEW

    field = _field(submitted.documents.get(), "gross_pay")
    response = client.post(url, {"correct": field.pk, "value": "4,200.00", "reason": "Stub"})
    assert response.status_code == 302
    field.refresh_from_db()
    assert field.value == "4,200.00"
    assert field.revisions.order_by("-number").first().role == "reviewer"
    page = client.get(url).content.decode()
    assert "reviewer@example.com" in page

    response = client.post(
        url, {"decide": "approve", "note": "", "version": page_version(client, submitted)}
    )
    assert response["Location"] == reverse("review_queue")
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.APPROVED


def test_reviewer_correction_with_a_bad_value_shows_the_error(client_for, reviewer, submitted):
    field = _field(submitted.documents.get(), "pay_date")
    response = client_for(reviewer).post(
        reverse("review_application", args=[submitted.pk]),
        {"correct": field.pk, "value": "12/45/2026"},
    )
    page = response.content.decode()
    assert "12/45/2026 is not a date when read month first" in page
    assert 'value="12/45/2026"' in page


def test_request_changes_without_a_note_shows_the_error(client_for, reviewer, submitted):
    response = client_for(reviewer).post(
        reverse("review_application", args=[submitted.pk]),
        {"decide": "request_changes", "note": "  "},
    )
    assert response.status_code == 200
    assert "Write a note" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.SUBMITTED
    assert not Decision.objects.exists()


def test_waiving_a_flag_needs_a_note(client_for, reviewer, submitted):
    flag = FlagFactory(application=submitted)
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    response = client.post(url, {"waive": flag.pk, "note": ""})
    assert "Write a note saying why this flag can be waived." in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == "open"

    client.post(url, {"waive": flag.pk, "note": "Bonus month, checked with employer."})
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by) == ("waived", reviewer)


def test_a_flag_of_another_application_cannot_be_waived_here(client_for, reviewer, submitted):
    flag = FlagFactory()
    response = client_for(reviewer).post(
        reverse("review_application", args=[submitted.pk]), {"waive": flag.pk, "note": "x"}
    )
    assert response.status_code == 404


# --- Admin -------------------------------------------------------------------------------------


def test_history_shows_who_changed_what_from_and_to(client_for, applicant, auditor, document):
    field = _field(document, "gross_pay")
    client_for(applicant).post(
        reverse("field_update", args=[field.pk]),
        {"value": "4,300.00", "reason": "Typo", "save": "1"},
    )
    response = client_for(auditor).get(reverse("revision_history"), {"field_key": "gross_pay"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "$4,250.00" in page and "4,300.00" in page
    # The address may wrap before its "@" (<wbr>), never in the middle of a word.
    assert "applicant<wbr>@example.com" in page
    assert "Typo" in page
    # Nothing on the page claims the history is intact: only the full verification may.
    assert "History verified" not in page and "Verify the whole history" in page
    rows = response.context["rows"]
    assert [r.field.key for r in rows] == ["gross_pay", "gross_pay"]
    assert rows[0].display_from == "$4,250.00"


def test_history_filters_by_reference_role_and_dates(client_for, auditor, document, submitted):
    client = client_for(auditor)
    by_reference = client.get(
        reverse("revision_history"), {"application_reference": submitted.reference.lower()}
    )
    assert by_reference.context["rows"]
    assert {r.application_id for r in by_reference.context["rows"]} == {submitted.pk}
    by_role = client.get(reverse("revision_history"), {"role": "applicant"})
    # Only the submitted application's values were confirmed by its applicant.
    assert by_role.context["rows"]
    assert {r.role for r in by_role.context["rows"]} == {"applicant"}
    assert {r.application_id for r in by_role.context["rows"]} == {submitted.pk}
    unknown = client.get(reverse("revision_history"), {"application_reference": "NOPE"})
    assert list(unknown.context["rows"]) == []
    bad_date = client.get(reverse("revision_history"), {"date_from": "tomorrow"})
    assert bad_date.status_code == 200
    assert "Enter a valid date." in bad_date.content.decode()


def test_history_verification_runs_as_a_job_over_the_whole_history(
    client_for, auditor, document, settings, tmp_path
):
    """The button starts the full check in the background; the page shows its outcome, and a
    row tampered with anywhere (not only on the page shown) makes it report the row."""
    from audit.services import seal_head
    from core.models import Job
    from review.tasks import verify_history_task

    settings.AUDIT_SEAL_PATH = tmp_path / "seal.log"
    seal_head()
    client = client_for(auditor)
    response = client.post(reverse("history_verify"))
    assert response.status_code == 302
    # The test's transaction never commits, so nothing is sent: the worker's body runs here
    # (tests/audit/test_verify_job.py runs it on a real worker).
    job_id = Job.objects.get(kind="audit.verify").pk
    verify_history_task(job_id)
    job = Job.objects.get(pk=job_id)
    assert job.result["ok"] and "The whole history is intact" in job.message
    page = client.get(reverse("revision_history")).content.decode()
    assert "The whole history is intact" in page

    field = document.fields.first()
    Field.objects.filter(pk=field.pk).update(value="forged")
    client.post(reverse("history_verify"))
    job = Job.objects.filter(kind="audit.verify").order_by("-pk").first()
    verify_history_task(job.pk)
    job.refresh_from_db()
    assert not job.result["ok"]
    assert f"First broken row: extraction_field id={field.pk}" in job.message


# --- Query counts ------------------------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_queue_runs_a_constant_number_of_queries(
    client_for, reviewer, django_assert_max_num_queries
):
    client = client_for(reviewer)
    for _ in range(2):
        FlagFactory(application=SubmittedApplicationFactory())
    few = _count_queries(client, reverse("review_queue"))
    for _ in range(8):
        application = SubmittedApplicationFactory(assigned_to=reviewer)
        FlagFactory(application=application)
    with django_assert_max_num_queries(few):
        client.get(reverse("review_queue"))


def test_review_page_runs_a_constant_number_of_queries(
    client_for, reviewer, submitted, django_assert_max_num_queries
):
    client = client_for(reviewer)
    url = reverse("review_application", args=[submitted.pk])
    FlagFactory(application=submitted)
    few = _count_queries(client, url)
    build_document(submitted, pages=3, extra_fields=10)
    FlagFactory.create_batch(3, application=submitted)
    with django_assert_max_num_queries(few):
        client.get(url)


def test_history_runs_a_constant_number_of_queries(
    client_for, auditor, applicant, django_assert_max_num_queries
):
    client = client_for(auditor)
    build_document(ApplicationFactory(owner=applicant))
    few = _count_queries(client, reverse("revision_history"))
    for _ in range(3):
        build_document(ApplicationFactory(owner=applicant), extra_fields=5)
    with django_assert_max_num_queries(few):
        client.get(reverse("revision_history"))


def test_document_page_runs_a_constant_number_of_queries(
    client_for, applicant, application, django_assert_max_num_queries
):
    client = client_for(applicant)
    small, _, _ = build_document(application)
    few = _count_queries(client, reverse("document_detail", args=[small.pk]))
    large, _, _ = build_document(application, pages=4, extra_fields=12)
    with django_assert_max_num_queries(few):
        client.get(reverse("document_detail", args=[large.pk]))


def test_applicant_chooses_the_type_of_a_document_that_could_not_be_classified(
    client_for, applicant
):
    """An unclassified document offers the shipped types and is queued again once one is chosen."""
    from django.core.files.base import ContentFile

    from applications.services import application_create
    from extraction.catalog import document_types_sync
    from extraction.models import Document
    from tests.builders import png_bytes

    types = {t.key: t for t in document_types_sync()}
    application = application_create(owner=applicant, stated_name="Ann")
    document = Document(
        application=application,
        uploaded_by=applicant,
        original_name="mystery.png",
        media_type="image/png",
        size=10,
        sha256="1" * 64,
        status=Document.Status.NEEDS_MANUAL_ENTRY,
        reason_code="unknown_type",
        reason="We could not tell what kind of document this is.",
    )
    document.original.save("m.png", ContentFile(png_bytes()), save=False)
    document.save()
    client = client_for(applicant)
    page = client.get(f"/applications/{application.pk}/")
    assert "What is this document?" in page.content.decode()

    response = client.post(
        f"/applications/{application.pk}/",
        {"set_type": str(document.pk), "document_type": str(types["w2"].pk)},
    )

    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.status, document.document_type.key) == ("queued", "w2")
