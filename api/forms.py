from django import forms
from django.db.models import Q

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
        # Reviewers and admins only (by their role's permission, as ``User.role`` decides): a
        # key acts for an organisation's staff, never as an applicant.
        may_review = (
            Q(is_superuser=True)
            | Q(groups__permissions__codename="review_application")
            | Q(user_permissions__codename="review_application")
        )
        self.fields["user"].queryset = (
            User.objects.filter(may_review, is_active=True).distinct().order_by("email")
        )
        self.fields["user"].label_from_instance = lambda user: user.email
