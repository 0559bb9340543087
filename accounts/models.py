from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class Role(models.TextChoices):
    """Who a person acts as; recorded on every revision they write."""

    MACHINE = "machine", "Machine"
    APPLICANT = "applicant", "Applicant"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Admin"


# Group names carry the staff roles; their permissions are created by a data migration.
REVIEWERS_GROUP = "Reviewers"
ADMINS_GROUP = "Admins"


class User(AbstractUser):
    """A person who signs in with an e-mail address."""

    username = None
    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def role(self) -> str:
        """The highest role the user holds: admin, reviewer or applicant."""
        if self.is_superuser or self.has_perm("applications.audit_history"):
            return Role.ADMIN
        if self.has_perm("applications.review_application"):
            return Role.REVIEWER
        return Role.APPLICANT

    @property
    def is_reviewer(self) -> bool:
        return self.role in (Role.REVIEWER, Role.ADMIN)

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN
