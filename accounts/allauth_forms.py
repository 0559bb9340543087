"""allauth's sign-in and reset forms, worded as the rest of Attest ("E-mail address").

Kept apart from ``accounts.forms``, which allauth itself imports while defining its forms."""

from allauth.account.forms import LoginForm, ResetPasswordForm, SignupForm


class EmailLoginForm(LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "E-mail address"
        self.fields["login"].widget.attrs["autofocus"] = True


class EmailResetPasswordForm(ResetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "E-mail address"


class EmailSignupForm(SignupForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "E-mail address"
        self.fields["password2"].label = "Password again"
