"""factory-boy factories for the domain rows, built directly through the ORM."""

from __future__ import annotations

import io

import factory
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import ADMINS_GROUP, REVIEWERS_GROUP, Role, User
from accounts.services import user_email_mark_verified
from applications.models import Application
from extraction.history import RevisionAction, revision_append
from extraction.models import Document, DocumentType, Field, Page
from rules.models import Flag, Severity

PASSWORD = "a-long-test-password-42"


def png_bytes(size: tuple[int, int] = (612, 792), text: str = "") -> bytes:
    image = Image.new("RGB", size, "white")
    if text:
        ImageDraw.Draw(image).text((40, 40), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def email_verified(self, create, extracted, **kwargs):
        """An existing account has confirmed its address (``email_verified=False`` to not)."""
        if create and extracted is not False:
            user_email_mark_verified(user=self)


class ReviewerFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=REVIEWERS_GROUP))


class AdminFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=ADMINS_GROUP))


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    owner = factory.SubFactory(UserFactory)
    stated_name = "Dana Example"
    stated_employer = "Acme Corp"
    stated_monthly_income = "4250.00"
    status = Application.Status.AWAITING_APPLICANT


class SubmittedApplicationFactory(ApplicationFactory):
    status = Application.Status.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)


class DocumentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentType
        django_get_or_create = ("key",)

    key = "pay_stub"
    label = "Pay stub"
    fields = factory.LazyFunction(list)


class DocumentFactory(factory.django.DjangoModelFactory):
    """A read document whose original is a small PDF saved into the private storage."""

    class Meta:
        model = Document

    application = factory.SubFactory(ApplicationFactory)
    uploaded_by = factory.SelfAttribute("application.owner")
    document_type = factory.SubFactory(DocumentTypeFactory)
    original_name = "pay-stub.pdf"
    media_type = "application/pdf"
    size = 0
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    page_count = 1
    status = Document.Status.EXTRACTED

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        data = kwargs.pop("data", None) or pdf_bytes()
        document = model_class(*args, **kwargs)
        document.size = len(data)
        document.original.save("original.pdf", ContentFile(data), save=False)
        document.save()
        return document


class PageFactory(factory.django.DjangoModelFactory):
    """A rendered page with a real PNG in the private storage."""

    class Meta:
        model = Page

    document = factory.SubFactory(DocumentFactory)
    number = factory.Sequence(lambda n: n + 1)
    width = 612
    height = 792
    text = "Pay date 01/15/2026 Gross pay $4,250.00"
    words = factory.LazyFunction(
        lambda: [
            ["Pay", 0.10, 0.10, 0.14, 0.12],
            ["date", 0.15, 0.10, 0.20, 0.12],
            ["01/15/2026", 0.30, 0.10, 0.45, 0.12],
            ["Gross", 0.10, 0.20, 0.16, 0.22],
            ["pay", 0.17, 0.20, 0.21, 0.22],
            ["$4,250.00", 0.30, 0.20, 0.42, 0.22],
        ]
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        page = model_class(*args, **kwargs)
        page.image.save(
            f"page-{page.number}.png",
            ContentFile(png_bytes((page.width, page.height), f"Page {page.number}")),
            save=False,
        )
        page.save()
        return page


class FieldFactory(factory.django.DjangoModelFactory):
    """A field as the machine read it, with its first revision."""

    class Meta:
        model = Field
        skip_postgeneration_save = True

    document = factory.SubFactory(DocumentFactory)
    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    kind = "text"
    position = factory.Sequence(lambda n: n)
    machine_value = "Acme Corp"
    value = factory.SelfAttribute("machine_value")
    normalized = factory.SelfAttribute("machine_value")
    grounded = True
    box = factory.LazyFunction(lambda: [0.1, 0.1, 0.3, 0.12])

    @factory.post_generation
    def machine_revision(self, create, extracted, **kwargs):
        if create and extracted is not False:
            revision_append(
                field=self,
                value=self.machine_value,
                actor=None,
                role=Role.MACHINE,
                action=RevisionAction.EXTRACTED,
            )


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flag

    application = factory.SubFactory(SubmittedApplicationFactory)
    rule_key = factory.Sequence(lambda n: f"rule_{n}")
    title = "Income does not match"
    severity = Severity.HIGH
    message = "The pay stub shows less than the stated income."
