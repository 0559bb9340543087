from django import forms

from accounts.models import User

from .models import Scope


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Who uses it, e.g. “Lender portal (production)”."
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Acts as",
        help_text="The key can do only what this person can; decisions are in their name.",
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, initial=[Scope.READ]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff accounts only: a key acts for an organisation's reviewer or admin, never as an
        # applicant.
        self.fields["user"].queryset = User.objects.filter(is_active=True, is_staff=True).order_by(
            "email"
        )
