"""Writes of the rule engine: rules and their versions, flags raised and resolved, waivers."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from applications.claims import actor_role, application_lock_for_staff
from applications.models import Application
from audit.models import Action
from audit.services import audit_record
from extraction.models import DocumentType

from .context import context_build
from .evaluation import Finding, RuleSpec, findings_evaluate, placeholders
from .expressions import ExpressionError, compile_expression
from .models import RULE_ERROR_PREFIX, Flag, Rule, RuleVersion, Scope, Severity

PACK_PATH = Path(__file__).resolve().parent / "pack" / "builtin.yaml"

# What an edit may set; everything else on a version (number, author, time) is the system's.
RULE_FIELDS = (
    "title",
    "description",
    "expression",
    "severity",
    "scope",
    "message",
    "link_field",
    "enabled",
)


# --- rules ---------------------------------------------------------------------------------------


def rule_validate(*, data: dict, known_types: bool = True) -> None:
    """Raise ValidationError keyed by form field; an expression error carries its position
    ("line 1, column 12: ...") so that the admin sees where it is.

    ``known_types=False`` accepts any document type key as a scope: the shipped pack may load
    before the shipped document types do.
    """
    errors: dict[str, list[str]] = {}
    if data.get("severity") not in Severity.values:
        errors.setdefault("severity", []).append("Choose a severity.")
    scope = data.get("scope", "")
    if not scope or (
        scope not in Scope.GENERIC
        and known_types
        and not DocumentType.objects.filter(key=scope).exists()
    ):
        errors.setdefault("scope", []).append(
            "Choose application, document, field or a document type."
        )
    try:
        compile_expression(data.get("expression", ""))
    except ExpressionError as error:
        errors.setdefault("expression", []).append(str(error))
    for source in placeholders(data.get("message", "")):
        try:
            compile_expression(source)
        except ExpressionError as error:
            errors.setdefault("message", []).append(f"In {{{{ {source} }}}}: {error}")
    if not data.get("title", "").strip():
        errors.setdefault("title", []).append("Give the rule a title.")
    if not data.get("message", "").strip():
        errors.setdefault("message", []).append("Write the message a reviewer sees.")
    if errors:
        raise ValidationError(errors)


def _assert_rule_admin(actor) -> None:
    if actor is not None and not actor.has_perm("applications.audit_history"):
        raise PermissionDenied("Only admins can change rules.")


def _version_add(*, rule: Rule, data: dict, actor, note: str) -> RuleVersion:
    number = (rule.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = RuleVersion.objects.create(
        rule=rule,
        number=number,
        author=actor,
        note=note[:300],
        **{name: data.get(name, default) for name, default in _DEFAULTS.items()},
    )
    rule.current = version
    rule.save(update_fields=["current"])
    return version


_DEFAULTS = {
    "title": "",
    "description": "",
    "expression": "",
    "severity": Severity.MEDIUM,
    "scope": Scope.APPLICATION,
    "message": "",
    "link_field": "",
    "enabled": True,
}


def rule_create(*, actor, key: str, note: str = "", **data) -> Rule:
    """A new rule with its version 1. Admin only; the expression must compile."""
    _assert_rule_admin(actor)
    data = {name: value for name, value in data.items() if name in RULE_FIELDS}
    data = {**_DEFAULTS, **data}
    rule_validate(data=data)
    with transaction.atomic():
        if Rule.objects.filter(key=key).exists():
            raise ValidationError({"key": ["A rule with this key exists; edit it instead."]})
        rule = Rule.objects.create(key=key)
        _version_add(rule=rule, data=data, actor=actor, note=note or "Created.")
    return rule


def rule_update(*, rule: Rule, actor, note: str = "", **changes) -> RuleVersion:
    """Add a version with the changes; the version before stays, and so do its flags.

    Idempotent: changes that change nothing add no version.
    """
    _assert_rule_admin(actor)
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        current = rule.current
        data = {name: getattr(current, name) for name in RULE_FIELDS}
        data.update({name: value for name, value in changes.items() if name in RULE_FIELDS})
        if all(data[name] == getattr(current, name) for name in RULE_FIELDS):
            return current
        # A scope the rule already had stays acceptable even if its type is not loaded here.
        rule_validate(data=data, known_types=data["scope"] != current.scope)
        return _version_add(rule=rule, data=data, actor=actor, note=note or "Edited.")


def rule_disable(*, rule: Rule, actor, note: str = "") -> RuleVersion:
    return rule_update(rule=rule, actor=actor, enabled=False, note=note or "Disabled.")


def rule_enable(*, rule: Rule, actor, note: str = "") -> RuleVersion:
    return rule_update(rule=rule, actor=actor, enabled=True, note=note or "Enabled.")


def shipped_rules() -> list[dict]:
    return yaml.safe_load(PACK_PATH.read_text())


@transaction.atomic
def rules_sync() -> list[Rule]:
    """Load the built-in pack: create missing rules, and add a version to a rule only when
    the pack's version of it is newer than the one last loaded.

    Idempotent; an admin's edits survive until a newer version of that rule ships.
    """
    synced = []
    for data in shipped_rules():
        rule, _ = Rule.objects.select_for_update().get_or_create(key=data["key"])
        shipped = int(data.get("version", 1))
        if rule.current_id is None or rule.shipped_version < shipped:
            fields = {name: data[name] for name in RULE_FIELDS if name in data}
            fields = {
                **_DEFAULTS,
                **fields,
                "expression": fields["expression"].strip(),
                "message": fields["message"].strip(),
                "description": fields.get("description", "").strip(),
            }
            rule_validate(data=fields, known_types=False)
            _version_add(rule=rule, data=fields, actor=None, note=f"Built-in pack v{shipped}.")
            rule.shipped_version = shipped
            rule.save(update_fields=["shipped_version"])
        synced.append(rule)
    return synced


def _enabled_specs() -> list[RuleSpec]:
    if not Rule.objects.exists():
        # First use on a fresh database: the pack is the rule set until an admin changes it.
        rules_sync()
    versions = (
        RuleVersion.objects.filter(pk__in=Rule.objects.values("current"), enabled=True)
        .select_related("rule")
        .order_by("rule__key")
    )
    return [RuleSpec.from_version(version) for version in versions]


# --- flags ---------------------------------------------------------------------------------------


def _risk_score(application) -> int:
    return sum(flag.weight for flag in application.flags.filter(status=Flag.Status.OPEN))


def _base_key(rule_key: str) -> str:
    return rule_key.removeprefix(RULE_ERROR_PREFIX)


def flags_refresh(*, application) -> list[Flag]:
    """Run every enabled rule; raise flags for findings that hold now and resolve open flags
    whose finding is gone, saying why.

    Idempotent. A waived flag stays waived while its finding holds; a flag resolved by the
    system opens again (with the version that raised it again) if its finding comes back. An
    open flag keeps the rule version that raised it; its message shows the current values.
    A rule that fails raises a "rule error" flag instead of stopping the others.
    """
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        specs = _enabled_specs()
        findings = {
            finding.identity: finding
            for finding in findings_evaluate(specs, context_build(application))
        }
        enabled = {spec.key for spec in specs}
        existing = {
            (flag.rule_key, flag.document_id, flag.field_id): flag
            for flag in application.flags.all()
        }
        now = timezone.now()
        for identity, finding in findings.items():
            flag = existing.get(identity)
            if flag is None:
                _flag_create(application, finding)
                continue
            flag.message = finding.message
            flag.values = finding.values
            if flag.status == Flag.Status.RESOLVED:
                flag.move_to(Flag.Status.OPEN)
                flag.resolved_by = None
                flag.resolved_at = None
                flag.note = ""
                flag.rule_version = finding.rule_version
                flag.rule_revision_id = finding.rule_revision_id
                flag.title = finding.title
                flag.severity = finding.severity
            flag.save()
        for identity, flag in existing.items():
            if identity not in findings and flag.status == Flag.Status.OPEN:
                flag.move_to(Flag.Status.RESOLVED)
                flag.resolved_at = now
                if flag.is_rule_error:
                    flag.note = "The rule runs again without error."
                elif _base_key(flag.rule_key) not in enabled:
                    flag.note = "Resolved because the rule was disabled."
                else:
                    flag.note = "No longer applies after the values changed."
                flag.save()
        application.risk_score = _risk_score(application)
        application.save(update_fields=["risk_score", "updated_at"])
    return list(application.flags.all())


def _flag_create(application, finding: Finding) -> Flag:
    return Flag.objects.create(
        application=application,
        document_id=finding.document_id,
        field_id=finding.field_id,
        rule_key=finding.rule_key,
        rule_version=finding.rule_version or 1,
        rule_revision_id=finding.rule_revision_id,
        title=finding.title,
        severity=finding.severity,
        message=finding.message,
        values=finding.values,
    )


class FlagNotOpen(ValidationError):
    """The flag was already waived or resolved: a page opened earlier showed it open."""


def _flag_state(flag: Flag) -> str:
    when = (
        timezone.localtime(flag.resolved_at).strftime("%b %-d, %Y, %-I:%M %p")
        if (flag.resolved_at)
        else ""
    )
    if flag.status == Flag.Status.WAIVED:
        who = flag.resolved_by or "staff"
        return f"It was already waived by {who}{f' on {when}' if when else ''}: {flag.note}"
    return f"It was already resolved{f' on {when}' if when else ''}: {flag.note}".rstrip(": ")


def flag_waive(*, flag: Flag, actor, note: str) -> Flag:
    """A reviewer accepts the risk; the note says why, for the audit.

    Needs the application's claim (an unclaimed application is claimed first; see
    ``applications.claims``). A waiver is never overwritten: waiving a flag that is not open
    raises FlagNotOpen naming the earlier act; waiving it again after a reopening is a new
    event in the trail.
    """
    if not actor.has_perm("applications.review_application"):
        raise PermissionDenied("Only reviewers can waive flags.")
    note = note.strip()
    if not note:
        raise ValidationError(
            "Write a note saying why this flag can be waived.", code="note_required"
        )
    with transaction.atomic():
        application = application_lock_for_staff(
            application=flag.application_id, actor=actor, why="a waiver"
        )
        flag = (
            Flag.objects.select_for_update(of=("self",))
            .select_related("resolved_by")
            .get(pk=flag.pk)
        )
        if flag.status != Flag.Status.OPEN:
            raise FlagNotOpen(
                f"Flag “{flag.title}” was not waived. {_flag_state(flag)}", code="not_open"
            )
        flag.move_to(Flag.Status.WAIVED)
        flag.note = note
        flag.resolved_by = actor
        flag.resolved_at = timezone.now()
        flag.save()
        application.risk_score = _risk_score(application)
        application.save(update_fields=["risk_score", "updated_at"])
        audit_record(
            action=Action.FLAG_WAIVED,
            actor=actor,
            role=actor_role(actor),
            application=application,
            subject=flag,
            data={
                "rule": flag.rule_key,
                "title": flag.title,
                "severity": flag.severity,
                "note": note,
            },
        )
    return flag


def flag_reopen(*, flag: Flag, actor, note: str) -> Flag:
    """Staff open a waived or resolved flag again, saying why; it counts towards the risk
    again. The earlier waiver stays in the trail. Same claim rules as ``flag_waive``."""
    if not actor.has_perm("applications.review_application"):
        raise PermissionDenied("Only reviewers can reopen flags.")
    note = note.strip()
    if not note:
        raise ValidationError(
            "Write a note saying why this flag needs another look.", code="note_required"
        )
    with transaction.atomic():
        application = application_lock_for_staff(
            application=flag.application_id, actor=actor, why="a flag reopened"
        )
        flag = Flag.objects.select_for_update().get(pk=flag.pk)
        if flag.status == Flag.Status.OPEN:
            raise FlagNotOpen(f"Flag “{flag.title}” is already open.", code="already_open")
        previous = {"status": flag.status, "note": flag.note, "by": flag.resolved_by_id}
        flag.move_to(Flag.Status.OPEN)
        flag.note = ""
        flag.resolved_by = None
        flag.resolved_at = None
        flag.save()
        application.risk_score = _risk_score(application)
        application.save(update_fields=["risk_score", "updated_at"])
        audit_record(
            action=Action.FLAG_REOPENED,
            actor=actor,
            role=actor_role(actor),
            application=application,
            subject=flag,
            data={"rule": flag.rule_key, "title": flag.title, "note": note, "previous": previous},
        )
    return flag


__all__ = [
    "FlagNotOpen",
    "flag_reopen",
    "flag_waive",
    "flags_refresh",
    "rule_create",
    "rule_disable",
    "rule_enable",
    "rule_update",
    "rule_validate",
    "rules_sync",
]
