"""Writes of the rule engine: rules and their versions, flags raised and resolved, waivers."""

from __future__ import annotations

from pathlib import Path

import yaml
from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from applications.claims import actor_role, application_lock_for_staff
from applications.models import Application
from applications.selectors import REVIEW_PERMISSION
from audit.models import Action
from audit.services import audit_record
from core.jobs import job_start
from core.models import Job
from extraction.models import DocumentType

from .context import context_build
from .evaluation import Finding, RuleSpec, findings_evaluate, placeholders, spec_needs
from .expressions import ExpressionError, compile_expression
from .models import RULE_ERROR_PREFIX, Flag, Rule, RuleError, RuleVersion, Scope, Severity
from .selectors import REEVALUATE_JOB
from .typecheck import check_rule_types, declared_types, variables_for

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


def rule_validate(*, data: dict, known_types: bool = True, check_types: bool = True) -> None:
    """Raise ValidationError keyed by form field; an expression error carries its position
    ("line 1, column 12: ...") so that the admin sees where it is.

    The expression and the message's placeholders are type-checked against the fields the
    document types in the rule's scope declare (``rules.typecheck``): an unknown key names the
    nearest known one, and the expression must give true or false. ``check_types=False`` skips
    that (disabling a rule is always allowed). ``known_types=False`` accepts any document type
    key as a scope: the shipped pack may load before the shipped document types do.
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
    types = declared_types() if check_types else {}
    variables = variables_for(scope, types) if check_types else {}
    try:
        compile_expression(data.get("expression", ""))
        if check_types:
            check_rule_types(
                data.get("expression", ""), scope=scope, types=types, variables=variables
            )
    except ExpressionError as error:
        errors.setdefault("expression", []).append(str(error))
    for source in placeholders(data.get("message", "")):
        try:
            compile_expression(source)
            if check_types:
                check_rule_types(
                    source, scope=scope, types=types, boolean=False, variables=variables
                )
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
    """Add the version, make it current and write the audit event saying what changed."""
    previous = rule.current
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
    _rule_audit(rule=rule, version=version, previous=previous, actor=actor)
    return version


def _rule_audit(*, rule: Rule, version: RuleVersion, previous: RuleVersion | None, actor) -> None:
    common = {"key": rule.key, "version": version.number, "note": version.note}
    if previous is None:
        action = Action.RULE_CREATED
        data = {**common, **{name: getattr(version, name) for name in RULE_FIELDS}}
    else:
        changes = {
            name: {"from": getattr(previous, name), "to": getattr(version, name)}
            for name in RULE_FIELDS
            if getattr(previous, name) != getattr(version, name)
        }
        if set(changes) == {"enabled"}:
            action = Action.RULE_ENABLED if version.enabled else Action.RULE_DISABLED
        else:
            action = Action.RULE_CHANGED
        data = {**common, "from_version": previous.number, "changes": changes}
    audit_record(
        action=action,
        actor=actor,
        role=actor.role if actor is not None else "system",
        subject=rule,
        data=data,
    )


REEVALUATE_TASK = "rules.reevaluate_open_applications"


def enqueue_by_name(task_name: str):
    # By name: the task module imports this one, and a service must not import its tasks.
    return lambda job_id: current_app.send_task(task_name, args=[job_id])


def rule_reevaluate_start(*, rule: Rule, actor) -> Job:
    """Start a background job that brings every open (undecided) application's flags of this
    rule in line with its current version; its progress shows on the rule's page."""
    version = rule.current
    return job_start(
        kind=REEVALUATE_JOB,
        label=f"Re-checking open applications with {rule.key} v{version.number}",
        started_by=actor,
        arguments={"rule": rule.key, "version": version.number},
        enqueue=enqueue_by_name(REEVALUATE_TASK),
    )


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
        if rule.current.enabled:
            rule_reevaluate_start(rule=rule, actor=actor)
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
        # Switching a rule off is always allowed, even one that no longer type-checks.
        disabling_only = {n for n in RULE_FIELDS if data[n] != getattr(current, n)} == {"enabled"}
        rule_validate(
            data=data,
            known_types=data["scope"] != current.scope,
            check_types=not (disabling_only and not data["enabled"]),
        )
        version = _version_add(rule=rule, data=data, actor=actor, note=note or "Edited.")
        if version.enabled or current.enabled:
            # Enabled, changed or disabled: open applications' flags follow the new version.
            rule_reevaluate_start(rule=rule, actor=actor)
        return version


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
            # The pack is type-checked against the shipped types by its tests; here a type an
            # admin changed must not stop it from loading (a rule that then fails at run time
            # shows on the rule health screen).
            rule_validate(data=fields, known_types=False, check_types=False)
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


def _risk_score_update(application) -> None:
    """Store the application's risk score as its open flags give it now."""
    application.risk_score = _risk_score(application)
    application.save(update_fields=["risk_score", "updated_at"])


def _base_key(rule_key: str) -> str:
    return rule_key.removeprefix(RULE_ERROR_PREFIX)


def flags_refresh(*, application, rule_key: str | None = None) -> list[Flag]:
    """Run every enabled rule (or only ``rule_key``); raise flags for findings that hold now
    and resolve open flags whose finding is gone, saying why.

    Idempotent. A waived flag stays waived while its finding holds; a flag resolved by the
    system opens again (with the version that raised it again) if its finding comes back. An
    open flag keeps the rule version that raised it; its message shows the current values.
    A rule that fails is recorded for admins (``RuleError``, after the commit) and raises no
    flag: the applicant's application carries only findings.
    """
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        specs = _enabled_specs()
        if rule_key is not None:
            specs = [spec for spec in specs if spec.key == rule_key]
            context = context_build(application, **spec_needs(specs))
        else:
            context = context_build(application)
        evaluated = findings_evaluate(specs, context)
        failures = [finding for finding in evaluated if finding.is_rule_error]
        findings = {finding.identity: finding for finding in evaluated if not finding.is_rule_error}
        enabled = {spec.key for spec in specs}
        flags = application.flags.all()
        if rule_key is not None:
            flags = flags.filter(rule_key__in=[rule_key, f"{RULE_ERROR_PREFIX}{rule_key}"])
        existing = {(flag.rule_key, flag.document_id, flag.field_id): flag for flag in flags}
        now = timezone.now()
        for identity, finding in findings.items():
            flag = existing.get(identity)
            if flag is None:
                _flag_event(Action.FLAG_RAISED, _flag_create(application, finding))
                continue
            flag.message = finding.message
            flag.values = finding.values
            if flag.status == Flag.Status.RESOLVED:
                _flag_event(Action.FLAG_REOPENED, flag, note="Its finding holds again.")
                flag.move_to(Flag.Status.OPEN)
                flag.resolved_by = None
                flag.resolved_at = None
                flag.note = ""
                flag.rule_version = finding.rule_version
                flag.rule_revision_id = finding.rule_revision_id
                flag.title = finding.title
                flag.severity = finding.severity
            flag.save()
        failed = {_base_key(failure.rule_key) for failure in failures}
        for identity, flag in existing.items():
            if identity in findings or flag.status != Flag.Status.OPEN:
                continue
            if _base_key(flag.rule_key) in failed and not flag.is_rule_error:
                # The rule could not run here: whether it still holds is unknown, so it stays.
                continue
            flag.move_to(Flag.Status.RESOLVED)
            flag.resolved_at = now
            if flag.is_rule_error:
                flag.note = "Rule errors are shown to admins on the rule's page, not here."
            elif _base_key(flag.rule_key) not in enabled:
                flag.note = "Resolved because the rule was disabled."
            else:
                flag.note = "No longer applies after the values changed."
            flag.save()
            _flag_event(Action.FLAG_RESOLVED, flag, note=flag.note)
        _risk_score_update(application)
        if failures:
            transaction.on_commit(
                lambda: rule_errors_record(failures=failures, application_id=application.pk)
            )
    return list(application.flags.all())


def rule_errors_record(*, failures: list[Finding], application_id: int | None) -> None:
    """Count each failure against its rule version and keep the latest message.

    Safe under concurrency: the count is one UPDATE with F(); a first failure that races
    another's insert falls back to the update.
    """
    now = timezone.now()
    for failure in failures:
        if failure.rule_revision_id is None:
            continue  # a draft (try, back-test): not a stored version
        changes = {
            "count": F("count") + 1,
            "last_message": str(failure.values.get("error", failure.message))[:2000],
            "last_where": str(failure.values.get("where", ""))[:300],
            "last_application_id": application_id,
            "last_seen_at": now,
        }
        if RuleError.objects.filter(version_id=failure.rule_revision_id).update(**changes):
            continue
        try:
            with transaction.atomic():
                RuleError.objects.create(
                    version_id=failure.rule_revision_id,
                    count=1,
                    last_message=changes["last_message"],
                    last_where=changes["last_where"],
                    last_application_id=application_id,
                    first_seen_at=now,
                    last_seen_at=now,
                )
        except IntegrityError:
            RuleError.objects.filter(version_id=failure.rule_revision_id).update(**changes)


def _flag_event(action: str, flag: Flag, note: str = "") -> None:
    """The rule engine's own act on a flag (raised, resolved, raised again), in the trail as
    the system's; people's waivers and reopenings are recorded by ``flag_waive`` and
    ``flag_reopen``."""
    audit_record(
        action=action,
        role="system",
        application=flag.application_id,
        subject=flag,
        data={
            "rule": flag.rule_key,
            "rule_version": flag.rule_version,
            "severity": flag.severity,
            "title": flag.title,
            "document": flag.document_id,
            "field": flag.field_id,
            **({"note": note} if note else {}),
        },
    )


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
        timezone.localtime(flag.resolved_at).strftime("%b %-d, %Y, %H:%M %Z")
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
    if not actor.has_perm(REVIEW_PERMISSION):
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
        _waive(flag, actor=actor, note=note, when=timezone.now())
        _risk_score_update(application)
        _waived_event(flag, actor=actor, application=application, note=note)
    return flag


def _waive(flag: Flag, *, actor, note: str, when) -> None:
    """Move one open, locked flag to waived in ``actor``'s name."""
    flag.move_to(Flag.Status.WAIVED)
    flag.note = note
    flag.resolved_by = actor
    flag.resolved_at = when
    flag.save()


def _waived_event(flag: Flag, *, actor, application, note: str, **extra) -> None:
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
            **extra,
        },
    )


def flags_waive(*, application: Application | int, flag_ids, actor, note: str) -> list[Flag]:
    """A reviewer waives several flags of one application with one note.

    All or nothing, under the application's lock and the same claim rules as ``flag_waive``:
    when any chosen flag is no longer open (a page opened before someone else's waiver, or the
    same form sent twice) or no longer exists, nothing is waived and the message names each.
    Every waiver is its own audit event in the reviewer's name, with the shared note.
    """
    if not actor.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Only reviewers can waive flags.")
    note = note.strip()
    wanted = sorted({int(flag_id) for flag_id in flag_ids})
    if not wanted:
        raise ValidationError("Choose the flags to waive.", code="none_chosen")
    if not note:
        raise ValidationError(
            "Write a note saying why these flags can be waived.", code="note_required"
        )
    application_id = application if isinstance(application, int) else application.pk
    with transaction.atomic():
        locked = application_lock_for_staff(application=application_id, actor=actor, why="a waiver")
        flags = list(
            Flag.objects.select_for_update(of=("self",))
            .select_related("resolved_by")
            .filter(application_id=locked.pk, pk__in=wanted)
            .exclude(rule_key__startswith=RULE_ERROR_PREFIX)
            .order_by("pk")
        )
        problems = [
            f"“{flag.title}”: {_flag_state(flag)}"
            for flag in flags
            if flag.status != Flag.Status.OPEN
        ]
        missing = len(wanted) - len(flags)
        if missing:
            gone = "flag no longer exists" if missing == 1 else "flags no longer exist"
            problems.append(f"{missing} chosen {gone}.")
        if problems:
            raise FlagNotOpen(
                "Nothing was waived: the page was older than the flags. " + " ".join(problems),
                code="not_open",
            )
        now = timezone.now()
        for flag in flags:
            _waive(flag, actor=actor, note=note, when=now)
        _risk_score_update(locked)
        for flag in flags:
            _waived_event(
                flag, actor=actor, application=locked, note=note, together_with=len(flags)
            )
    return flags


def flag_reopen(*, flag: Flag, actor, note: str) -> Flag:
    """Staff open a waived or resolved flag again, saying why; it counts towards the risk
    again. The earlier waiver stays in the trail. Same claim rules as ``flag_waive``."""
    if not actor.has_perm(REVIEW_PERMISSION):
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
        _risk_score_update(application)
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
    "flags_waive",
    "rule_create",
    "rule_disable",
    "rule_enable",
    "rule_update",
    "rule_validate",
    "rules_sync",
]
