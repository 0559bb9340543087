from django import forms

from .models import Event
from .safety import url_check


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Receiver URL",
        max_length=500,
        help_text="An https:// address of your system that accepts a POST with a JSON body.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/attest/webhooks"}),
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
    is_active = forms.BooleanField(label="Active: send deliveries", required=False, initial=True)

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        url_check(url)  # its ValidationError is the field's error, in plain words
        return url
