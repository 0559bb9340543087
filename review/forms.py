from django import forms

from accounts.models import Role
from applications.models import Application
from audit.models import Action
from extraction.models import DocumentType

from .selectors import reviewers


class ApplicationCreateForm(forms.Form):
    """What the applicant states up front; their documents will be checked against it."""

    stated_name = forms.CharField(
        label="Your full name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    stated_employer = forms.CharField(label="Employer", max_length=200, required=False)
    stated_monthly_income = forms.DecimalField(
        label="Monthly income before tax",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        error_messages={"invalid": "Enter an amount in dollars, such as 4250 or 4250.50."},
    )


class UploadForm(forms.Form):
    """The document type for a batch of files; the files come from ``request.FILES``."""

    document_type = forms.ModelChoiceField(
        label="Type of document",
        queryset=DocumentType.objects.filter(is_active=True),
        required=False,
        empty_label="Not sure — detect it",
    )


class QueueFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", "Waiting (submitted or in review)"),
        (Application.Status.SUBMITTED, "Submitted"),
        (Application.Status.IN_REVIEW, "In review"),
        (Application.Status.CHANGES_REQUESTED, "Changes requested"),
        (Application.Status.APPROVED, "Approved"),
        (Application.Status.REJECTED, "Rejected"),
        (Application.Status.WITHDRAWN, "Withdrawn"),
    ]
    ASSIGNED_CHOICES = [("", "Anyone"), ("me", "Me"), ("none", "Nobody")]

    SEVERITY_CHOICES = [
        ("", "Any"),
        ("critical", "Critical"),
        ("high", "High"),
        ("medium", "Medium"),
        ("low", "Low"),
        ("info", "Info"),
    ]

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Reference, applicant's name or e-mail; one or two letters find their starts",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, required=False)
    severity = forms.ChoiceField(
        label="Has open flag of severity", choices=SEVERITY_CHOICES, required=False
    )
    document_type = forms.ChoiceField(label="Document type", required=False)
    assigned = forms.ChoiceField(label="Assigned to", choices=ASSIGNED_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].choices = [
            ("", "Any type"),
            *DocumentType.objects.values_list("key", "label"),
        ]


class AssignForm(forms.Form):
    """An admin hands an application to a reviewer, or to nobody."""

    assignee = forms.ModelChoiceField(
        label="Assign to", queryset=None, required=False, empty_label="Nobody"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = reviewers()


class HistoryFilterForm(forms.Form):
    action = forms.ChoiceField(label="Action", required=False)
    actor_email = forms.CharField(label="Actor e-mail", max_length=254, required=False)
    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "Any role"), *Role.choices]
    )
    application_reference = forms.CharField(
        label="Application reference", max_length=12, required=False
    )
    field_key = forms.CharField(label="Field key", max_length=50, required=False)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    # Families of actions, matched by prefix (audit.selectors.audit_event_list).
    FAMILIES = [
        ("field.", "Any value change"),
        ("flag.", "Any flag event"),
        ("application.", "Any claim, submission or decision"),
        ("document.", "Any document event"),
        ("rule.", "Any rule event"),
        ("document_type.", "Any document type change"),
        ("webhook.", "Any webhook change"),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            ("", "Any action"),
            ("Families", self.FAMILIES),
            ("Actions", list(Action.choices)),
        ]

    def clean_application_reference(self):
        return self.cleaned_data["application_reference"].strip().upper()

    def clean_field_key(self):
        return self.cleaned_data["field_key"].strip()

    def clean_actor_email(self):
        return self.cleaned_data["actor_email"].strip()
