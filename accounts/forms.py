from django import forms


class SignupDetailsForm(forms.Form):
    """What allauth's sign-up form asks beside the e-mail and password: the person's name.

    ``AccountAdapter.save_user`` stores it; allauth requires the ``signup`` hook below."""

    full_name = forms.CharField(
        label="Full name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    field_order = ["full_name", "email", "password1", "password2"]

    def signup(self, request, user) -> None:
        """Nothing left to do: the adapter saved the name with the user."""
