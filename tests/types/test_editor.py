"""The document type screens: admins only; rows checked on save with the message at the row;
a changed definition is a new version, kept and audited; YAML out and in; catalog folders."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from django.urls import reverse

from applications.models import Application
from audit.models import Action, AuditEvent
from extraction.catalog import CatalogError, document_types_sync
from extraction.models import Document, DocumentType, DocumentTypeVersion, Page

from .conftest import LEASE, form_data
from .samples import lease_pdf

pytestmark = pytest.mark.django_db


def events():
    return list(AuditEvent.objects.filter(action=Action.DOCUMENT_TYPE_CHANGED).order_by("sequence"))


def row_html(html: str, number: int) -> str:
    """The HTML of field row ``number`` (1-based) of the editor."""
    start = html.index(f'id="field-row-{number}"')
    following = html.find('id="field-row-', start + 10)
    return html[start : following if following != -1 else len(html)]


@pytest.mark.parametrize("who", ["applicant", "reviewer"])
def test_only_admins_reach_the_type_screens(client_for, applicant, reviewer, shipped_types, who):
    client = client_for(applicant if who == "applicant" else reviewer)
    version = shipped_types["receipt"].versions.first().number
    for url in (
        reverse("type_list"),
        reverse("type_create"),
        reverse("type_edit", args=["receipt"]),
        reverse("type_export", args=["receipt"]),
        reverse("type_version", args=["receipt", version]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("type_create"), form_data(LEASE)).status_code == 403
    upload = {"file": _file("lease.yaml", yaml.safe_dump(LEASE).encode())}
    assert client.post(reverse("type_import"), upload).status_code == 403
    assert client.post(reverse("type_edit", args=["receipt"]), form_data(LEASE)).status_code == 403
    assert not DocumentType.objects.filter(key="lease").exists()


def _file(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_an_admin_creates_a_type_inactive_as_version_one_recorded(client_for, admin_user):
    client = client_for(admin_user)
    assert client.get(reverse("type_create")).status_code == 200
    response = client.post(reverse("type_create"), form_data(LEASE, note="For leases"))
    assert response.status_code == 302, response.content.decode()[-3000:]
    lease = DocumentType.objects.get(key="lease")
    assert (lease.version, lease.is_active, lease.date_order) == (1, False, "DMY")
    assert [spec["key"] for spec in lease.fields] == ["tenant_name", "monthly_rent", "start_date"]
    assert lease.fields[1]["read"][0]["exclude"] == ["Rent deposit"]
    assert lease.keywords == [{"phrase": "Lease agreement", "weight": 3}]
    version = lease.versions.get()
    assert (version.number, version.author, version.note) == (1, admin_user, "For leases")
    event = events()[-1]
    assert (event.actor, event.role, event.data["created"]) == (admin_user, "admin", True)
    page = client.get(reverse("type_edit", args=["lease"])).content.decode()
    assert "Monthly rent" in page and "Rent deposit" in page


def test_a_change_is_a_new_version_and_a_repeat_or_stale_page_is_not(client_for, admin_user):
    client = client_for(admin_user)
    client.post(reverse("type_create"), form_data(LEASE))
    changed = copy.deepcopy(LEASE)
    changed["fields"].append({"key": "deposit", "label": "Deposit", "kind": "money"})
    url = reverse("type_edit", args=["lease"])
    response = client.post(url, form_data(changed, based_on=1, note="deposit"))
    assert response.status_code == 302
    lease = DocumentType.objects.get(key="lease")
    assert lease.version == 2
    assert [v.number for v in lease.versions.all()] == [2, 1]
    event = events()[-1]
    assert event.data["fields_added"] == ["deposit"]
    assert event.data["changes"]["version"] == {"from": 1, "to": 2}
    # The same form sent twice (double click): nothing changed, no version, no event.
    count = len(events())
    client.post(url, form_data(changed, based_on=2))
    assert DocumentType.objects.get(key="lease").version == 2
    assert len(events()) == count
    # A page opened at version 1, sent after version 2 was saved: refused, nothing written.
    stale = copy.deepcopy(changed)
    stale["label"] = "Lease (old page)"
    response = client.post(url, form_data(stale, based_on=1))
    assert response.status_code == 409
    assert "while you were editing version 1" in response.content.decode()
    assert DocumentType.objects.get(key="lease").label == "Lease"
    # Switching it on is recorded, and is not a new version of the definition.
    client.post(url, form_data(changed, based_on=2, is_active=True))
    lease = DocumentType.objects.get(key="lease")
    assert (lease.is_active, lease.version) == (True, 2)
    assert events()[-1].data["changes"] == {"is_active": {"from": False, "to": True}}
    # The version page shows what changed.
    diff = client.get(reverse("type_version", args=["lease", 2])).content.decode()
    assert 'class="diff-add">+ - key: deposit' in diff


# One row's rules sharing one list of labels: 300 x 300 labels from 6 KB of YAML.
_ROW_LAUGHS = f"- labels: &L [{', '.join(f'l{i}' for i in range(300))}]\n" + (
    "- labels: *L\n" * 299
)


@pytest.mark.parametrize(
    ("row", "change", "message"),
    [
        (2, {"key": ""}, "fields row 2, key: use lowercase letters"),
        (2, {"key": "Monthly Rent"}, "use lowercase letters, digits and underscores"),
        (2, {"read": "labels: Total"}, "read: Input should be a valid list"),
        (2, {"read": "- pattern: '(?P<value>[0-9'"}, "the pattern is not a valid regular"),
        # Compiling this spelt 100⁴ letters out: the web process ran out of memory.
        (
            2,
            {"read": "- pattern: '(?P<value>(((a{100}){100}){100}){100})'"},
            "counted repeats ({n}) are too large together",
        ),
        (3, {"read": "- after: landlord\n  lines: 2"}, "after names landlord, which is not a"),
        (2, {"read": "- labels: [Rent]\n  choose: biggest"}, "choose: choose one of first"),
        (2, {"read": "- labels: [Rent]\n  wher: [right]"}, "wher: is not a known setting"),
        (2, {"read": "- labels: [Rent\n"}, "This is not valid YAML"),
        (2, {"read": _ROW_LAUGHS}, "more than 50,000 values once its aliases (*) are expanded"),
        (2, {"read": f"- labels: [{', '.join(f'L{i}' for i in range(201))}]"}, "at most 200"),
        (1, {"era": "past", "kind": "name"}, "era is for date fields only"),
    ],
)
def test_a_wrong_row_is_refused_with_its_message_at_that_row(
    client_for, admin_user, row, change, message
):
    client = client_for(admin_user)
    definition = copy.deepcopy(LEASE)
    definition["fields"][row - 1].update(change)
    response = client.post(reverse("type_create"), form_data(definition))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in row_html(html, row), re.findall(r"field-error[^>]*>([^<]+)", html)
    for other in {1, 2, 3} - {row}:
        assert message not in row_html(html, other)
    assert "Nothing was saved" in html
    assert not DocumentType.objects.filter(key="lease").exists()
    assert not DocumentTypeVersion.objects.filter(document_type__key="lease").exists()


def test_a_misspelt_kind_is_refused_at_its_row(client_for, admin_user):
    client = client_for(admin_user)
    data = form_data(LEASE, **{"fields-1-kind": "monie"})
    response = client.post(reverse("type_create"), data)
    assert response.status_code == 400
    assert "Select a valid choice" in row_html(response.content.decode(), 2)
    assert not DocumentType.objects.filter(key="lease").exists()


def test_a_type_without_fields_or_with_a_bad_currency_is_refused(client_for, admin_user):
    client = client_for(admin_user)
    bare = {**LEASE, "fields": [], "currency": "eu"}
    response = client.post(reverse("type_create"), form_data(bare))
    html = response.content.decode()
    assert response.status_code == 400
    assert "fields: List should have at least 1 item" in html
    assert "currency: String should match pattern" in html
    assert not DocumentType.objects.filter(key="lease").exists()


def test_yaml_round_trip_and_import_audited(client_for, admin_user, shipped_types):
    client = client_for(admin_user)
    response = client.get(reverse("type_export", args=["invoice"]))
    assert response["Content-Disposition"] == 'attachment; filename="invoice.yaml"'
    exported = yaml.safe_load(response.content)
    invoice = shipped_types["invoice"]
    assert exported["version"] == invoice.version
    assert exported["fields"] == invoice.fields
    # Import it under another key: a new, inactive type with the same definition.
    exported["key"] = "invoice_eu"
    exported["label"] = "Invoice (EU)"
    upload = {"file": _file("invoice_eu.yaml", yaml.safe_dump(exported).encode())}
    response = client.post(reverse("type_import"), upload)
    assert response.status_code == 302
    copy_ = DocumentType.objects.get(key="invoice_eu")
    assert (copy_.fields, copy_.keywords, copy_.is_active) == (
        invoice.fields,
        invoice.keywords,
        False,
    )
    assert copy_.versions.get().source == "yaml import"
    again = client.get(reverse("type_export", args=["invoice_eu"])).content
    assert yaml.safe_load(again)["fields"] == exported["fields"]
    # Importing a changed file onto an existing type makes its next version.
    exported["fields"][0]["hint"] = "The number printed after Invoice No."
    client.post(
        reverse("type_import"), {"file": _file("x.yaml", yaml.safe_dump(exported).encode())}
    )
    copy_.refresh_from_db()
    assert copy_.version == 2
    assert events()[-1].data["fields_changed"] == [exported["fields"][0]["key"]]


def _many_labels(rules: int, labels: int) -> bytes:
    text = "key: lease\nlabel: Lease\nfields:\n  - key: rent\n    label: Rent\n    read:\n"
    for rule in range(rules):
        text += f"      - labels: [{', '.join(f'L{rule}x{i}' for i in range(labels))}]\n"
    return text.encode()


def _laughs(n: int) -> bytes:
    """A type file whose n fields share n read rules that share n labels: n³ labels."""
    labels = ", ".join(f"l{i}" for i in range(n))
    rules = ", ".join(["{labels: *L}"] * n)
    text = "key: lease\nlabel: Lease\nfields:\n  - key: f0\n    label: F\n"
    text += f"    read: &R [{{labels: &L [{labels}]}}, {rules}]\n"
    text += "".join(f"  - {{key: f{i + 1}, label: F, read: *R}}\n" for i in range(n))
    return text.encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"key: lease\nlabel: Lease\nfields:\n  - {key: rent, label: Rent, kind: monie}\n",
            "fields row 1 (rent), kind: choose one of text",
        ),
        (b"key: lease\nlabel: [unclosed\n", "not valid YAML"),
        (b"- just a list\n", "must hold one document type"),
        (b"\xff\xfe\x00", "not UTF-8"),
        # "Billion laughs": yaml.safe_load expands aliases, so these 60 KB would be a
        # billion labels to check and store.
        (_laughs(1000), "more than 50,000 values once its aliases (*) are expanded"),
        (b"key: lease\nlabel: Lease\nfields: " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        # Without aliases, as many phrases as make reading a document take seconds.
        (_many_labels(11, 200), "a type holds at most 2,000"),
        # Over the size limit: refused after reading one byte past it, never read whole.
        (b"# " + b"x" * (3 * 1024 * 1024) + b"\n", "larger than 256 KB"),
    ],
)
def test_a_bad_yaml_import_is_refused_plainly(client_for, admin_user, content, message):
    client = client_for(admin_user)
    response = client.post(reverse("type_import"), {"file": _file("lease.yaml", content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DocumentType.objects.filter(key="lease").exists()


def test_document_types_dirs_load_a_teams_own_types(db, settings, tmp_path):
    (tmp_path / "lease.yaml").write_text(yaml.safe_dump({**LEASE, "version": 1}))
    settings.DOCUMENT_TYPES_DIRS = [str(tmp_path)]
    keys = {t.key for t in document_types_sync()}
    assert {"lease", "receipt", "invoice"} <= keys
    lease = DocumentType.objects.get(key="lease")
    assert lease.versions.get().source == "shipped"
    # A newer file in the folder makes the next version; an older one changes nothing.
    (tmp_path / "lease.yaml").write_text(
        yaml.safe_dump({**LEASE, "label": "Residential lease", "version": 2})
    )
    document_types_sync()
    lease.refresh_from_db()
    assert (lease.label, lease.version) == ("Residential lease", 2)
    document_types_sync()
    assert lease.versions.count() == 2
    # A wrong file stops the sync with its name and row, and nothing of it is loaded.
    (tmp_path / "broken.yaml").write_text("key: broken\nlabel: B\nfields: {key: x}\n")
    with pytest.raises(CatalogError, match=r"broken.yaml: fields: Input should be a valid list"):
        document_types_sync()
    assert not DocumentType.objects.filter(key="broken").exists()


def test_preview_reads_an_unsaved_definition_and_stores_nothing(client_for, admin_user):
    client = client_for(admin_user)
    counts = (Application.objects.count(), Document.objects.count(), Page.objects.count())
    data = form_data(LEASE, preview="1")
    del data["save"]
    data["sample"] = _file("lease.pdf", lease_pdf())
    response = client.post(reverse("type_create"), data)
    html = response.content.decode()
    assert response.status_code == 200, html[-2000:]
    values = dict(
        re.findall(
            r'data-key="(\w+)">\s*<td>[^<]*<div[^>]*>\w+</div></td>\s*'
            r'<td class="wrap-any">([^<]+)</td>',
            html,
        )
    )
    assert values == {
        "tenant_name": "Maria Lopez",
        "monthly_rent": "1,250.00",
        "start_date": "2026-03-01",
    }
    assert html.count('class="evidence-box preview-local"') == 3
    assert 'src="data:image/png;base64,' in html
    assert not DocumentType.objects.filter(key="lease").exists()
    assert (Application.objects.count(), Document.objects.count(), Page.objects.count()) == counts


def test_preview_of_a_hostile_file_says_so_plainly(client_for, admin_user):
    client = client_for(admin_user)
    data = form_data(LEASE, preview="1")
    del data["save"]
    data["sample"] = _file("lease.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50)
    response = client.post(reverse("type_create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="notice notice-error" role="alert">' in html
    assert "could not" in html or "damaged" in html or "not" in html
    assert Document.objects.count() == 0


@pytest.mark.parametrize(
    "key",
    ["pay_stub", "bank_statement", "w2", "drivers_license", "utility_bill", "receipt", "invoice"],
)
def test_every_shipped_type_survives_the_editor_unchanged(
    client_for, admin_user, shipped_types, key
):
    """Each field as the editor shows it (its boxes' initial values) reads back as the same
    definition, and saving the form unchanged makes no new version."""
    from extraction.type_forms import FieldForm

    document_type = shipped_types[key]
    for spec in document_type.fields:
        initial = FieldForm.initial_of(spec)
        data = {name: value for name, value in initial.items() if value not in (False, None)}
        data = {name: ("on" if value is True else value) for name, value in data.items()}
        form = FieldForm(data)
        assert form.is_valid(), form.errors
        item = form.item()
        expected = {"required": False, "sensitive": False, "kind": "text", **spec}
        assert item == expected
    before = document_type.version
    definition = {
        "key": key,
        "label": document_type.label,
        "description": document_type.description,
        "date_order": document_type.date_order,
        "currency": document_type.currency,
        "languages": document_type.languages,
        "keywords": document_type.keywords,
        "fields": document_type.fields,
    }
    response = client_for(admin_user).post(
        reverse("type_edit", args=[key]),
        form_data(definition, based_on=before, is_active=document_type.is_active),
    )
    assert response.status_code == 302
    document_type.refresh_from_db()
    assert document_type.version == before


def test_two_admins_creating_the_same_key_get_one_type_and_a_plain_refusal(admin_user, monkeypatch):
    """The second create finds no row when it looks, then the first one's row at insert."""
    from extraction import type_services

    real_apply = type_services._apply

    def other_admin_first(document_type, definition):
        if not DocumentType.objects.filter(key=definition["key"]).exists():
            DocumentType.objects.create(key=definition["key"], label="Theirs", fields=[])
        real_apply(document_type, definition)

    monkeypatch.setattr(type_services, "_apply", other_admin_first)
    with pytest.raises(type_services.TypeChangeRefused, match="was just created by someone"):
        type_services.document_type_save(actor=admin_user, data=LEASE, create=True)
    # (Here the other admin's row was made in the same transaction, so it is rolled back too.)
    assert not DocumentTypeVersion.objects.filter(document_type__key="lease").exists()


def test_preview_reads_with_the_configured_llm_too(client_for, admin_user, settings, fake_llm):
    settings.EXTRACTION_PROVIDER = "openai"
    settings.LLM_BASE_URL = fake_llm.base_url
    settings.LLM_API_KEY = "sk-test"
    settings.LLM_MODEL = "gpt-4o-mini"
    settings.LLM_TIMEOUT_SECONDS = 5
    fake_llm.expect({"tenant_name": "Maria Lopez", "monthly_rent": "1,250.00", "start_date": None})
    data = form_data(LEASE, preview="1")
    del data["save"]
    data["sample"] = _file("lease.pdf", lease_pdf())
    html = client_for(admin_user).post(reverse("type_create"), data).content.decode()
    assert 'data-reading="local"' in html and 'data-reading="openai"' in html
    assert html.count('class="evidence-box preview-openai"') == 2
    assert len(fake_llm.requests) == 1
    assert Document.objects.count() == 0


def test_a_missing_or_broken_types_folder_is_named_at_start_up(settings, tmp_path):
    from extraction.checks import document_types_dirs_load

    assert document_types_dirs_load() == []
    settings.DOCUMENT_TYPES_DIRS = [str(tmp_path / "nowhere")]
    (error,) = document_types_dirs_load()
    assert error.id == "extraction.E001" and "does not exist" in error.msg
    (tmp_path / "bad.yaml").write_text("key: bad\nlabel: Bad\nfields: []\n")
    settings.DOCUMENT_TYPES_DIRS = [str(tmp_path)]
    (error,) = document_types_dirs_load()
    assert "bad.yaml: fields: List should have at least 1 item" in error.msg


def test_a_failing_llm_in_the_preview_is_said_plainly_and_the_offline_reading_stays(
    client_for, admin_user, settings, fake_llm
):
    settings.EXTRACTION_PROVIDER = "openai"
    settings.LLM_BASE_URL = fake_llm.base_url
    settings.LLM_API_KEY = "sk-test"
    settings.LLM_MODEL = "gpt-4o-mini"
    settings.LLM_TIMEOUT_SECONDS = 5
    fake_llm.status(503)
    data = form_data(LEASE, preview="1")
    del data["save"]
    data["sample"] = _file("lease.pdf", lease_pdf())
    response = client_for(admin_user).post(reverse("type_create"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="evidence-box preview-local"') == 3
    warning = html[html.index('data-reading="openai"') - 600 : html.index('data-reading="openai"')]
    assert 'class="notice notice-warning"' in warning
    assert "Traceback" not in html


@pytest.mark.parametrize("total", ["many", "", "-3", "9" * 30])
def test_adding_a_row_to_a_tampered_form_is_no_server_error(client_for, admin_user, total):
    response = client_for(admin_user).post(
        reverse("type_create"),
        {**form_data(LEASE), "add_fields": "1", "fields-TOTAL_FORMS": total},
    )
    assert response.status_code in (200, 400)
    assert not DocumentType.objects.filter(key="lease").exists()
