"""Staff roles as groups with permissions. The data migration creates them; this keeps them."""

from django.contrib.auth.models import Group, Permission

from .models import ADMINS_GROUP, REVIEWERS_GROUP

REVIEWER_PERMISSIONS = ("review_application", "view_application")
ADMIN_PERMISSIONS = (*REVIEWER_PERMISSIONS, "audit_history")


def staff_groups_ensure() -> dict[str, Group]:
    """Create the Reviewers and Admins groups with their permissions; idempotent."""
    groups = {}
    for name, codenames in (
        (REVIEWERS_GROUP, REVIEWER_PERMISSIONS),
        (ADMINS_GROUP, ADMIN_PERMISSIONS),
    ):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="applications", codename__in=codenames
            )
        )
        groups[name] = group
    return groups
