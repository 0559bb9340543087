from django.conf import settings
from django.core.management.base import BaseCommand

from review.demo import demo_setup


class Command(BaseCommand):
    help = "Create demo accounts (one per role), sample documents and a demo application."

    def handle(self, *args, **options):
        demo = demo_setup()
        self.stdout.write("Demo accounts (e-mail / password):")
        for role, email, password in demo.accounts:
            self.stdout.write(f"  {role:<10} {email:<24} {password}")
        if settings.ATTEST_REQUIRE_STAFF_MFA:
            self.stdout.write(
                "Reviewers and admins set up an authenticator app (TOTP) at their first sign-in "
                "(ATTEST_REQUIRE_STAFF_MFA is on)."
            )
        else:
            self.stdout.write(
                "Staff sign in with the password alone here; production asks reviewers and "
                "admins for an authenticator code too (ATTEST_REQUIRE_STAFF_MFA=1 to try it)."
            )
        self.stdout.write(
            f"Demo application {demo.application.reference} belongs to the applicant."
        )
        self.stdout.write(f"Sample documents to upload: {demo.samples_dir}")
        for path in demo.samples:
            self.stdout.write(f"  {path.name}")
