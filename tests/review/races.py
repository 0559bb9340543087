"""Races between people's writes, run with real threads on their own database connections.

Each race builds a fresh application, starts its writers at the same instant (a barrier), and
checks the invariant that must hold whoever wins. Shared by tests/review/test_races.py (which
asserts 0 violations) and bench/races.py (which prints the figures).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections

from applications.models import Application
from audit.models import Action, AuditEvent
from extraction.models import Field
from extraction.services import document_upload
from review.models import Decision
from review.services import (
    application_claim,
    application_decide,
    application_submit,
    field_correct,
)
from review.versions import application_version
from rules.models import Flag, Severity
from rules.services import flag_waive, flags_waive
from tests.builders import pdf_bytes, upload
from tests.factories import (
    ApplicationFactory,
    DocumentFactory,
    FieldFactory,
    FlagFactory,
    ReviewerFactory,
    SubmittedApplicationFactory,
    UserFactory,
)

# A writer that loses a race must be refused with one of these (a plain message), never
# anything else (a 500 for the person).
REFUSALS = (PermissionDenied, ValidationError)


@dataclass
class People:
    applicant: object
    reviewer: object
    other: object

    @classmethod
    def make(cls) -> People:
        return cls(
            applicant=UserFactory(),
            reviewer=ReviewerFactory(full_name="Riley Reviewer"),
            other=ReviewerFactory(full_name="Sam Second"),
        )


def _application(people: People, *, submitted: bool) -> Application:
    """An application with one read document whose values the applicant checked."""
    factory = SubmittedApplicationFactory if submitted else ApplicationFactory
    application = factory(
        owner=people.applicant,
        **({} if submitted else {"status": Application.Status.AWAITING_APPLICANT}),
    )
    document = DocumentFactory(application=application)
    for key in ("employer_name", "employee_name"):
        FieldFactory(document=document, key=key, label=key.replace("_", " ").capitalize())
    Field.objects.filter(document=document).update(status=Field.Status.CONFIRMED)
    return application


def race(*writers: Callable[[], object]) -> list[tuple[str, object]]:
    """Run the writers at once, each in its own thread and database connection.

    Returns ("ok", result), ("refused", error) or ("error", error) per writer, in order.
    """
    barrier = threading.Barrier(len(writers))
    outcomes: list[tuple[str, object]] = [("error", None)] * len(writers)

    def run(index: int, writer: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = ("ok", writer())
        except REFUSALS as error:
            outcomes[index] = ("refused", error)
        except Exception as error:  # noqa: BLE001 - any other error is a finding, reported
            outcomes[index] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _unexpected(outcomes) -> str | None:
    for kind, value in outcomes:
        if kind == "error":
            return f"unexpected {type(value).__name__}: {value}"
    return None


def _kinds(outcomes) -> str:
    return "/".join(kind for kind, _ in outcomes)


# Each race returns (outcome label, violation or None).


def upload_vs_submit(people: People) -> tuple[str, str | None]:
    """The applicant submits while an upload of theirs arrives: the upload lands before the
    submission (which then waits for its reading) or is refused; never both."""
    application = _application(people, submitted=False)
    outcomes = race(
        lambda: application_submit(application=application, actor=people.applicant),
        lambda: document_upload(
            application=application,
            uploaded_file=upload("late.pdf", pdf_bytes()),
            actor=people.applicant,
        ),
    )
    label = _kinds(outcomes)
    if problem := _unexpected(outcomes):
        return label, problem
    application.refresh_from_db()
    documents = application.documents.count()
    if all(kind == "ok" for kind, _ in outcomes):
        return label, "both the submission and the upload succeeded"
    if application.status == Application.Status.SUBMITTED:
        event = AuditEvent.objects.get(
            application_id=application.pk, action=Action.APPLICATION_SUBMITTED
        )
        if event.data["documents"] != documents:
            return label, f"submitted {event.data['documents']} documents, holds {documents}"
    return label, None


def correction_vs_approve(people: People) -> tuple[str, str | None]:
    """The holder corrects a value while approving from the page before it: the approval is
    refused as stale, or the correction is refused as too late; an approved value is always
    the one verified."""
    application = _application(people, submitted=True)
    application_claim(application=application, reviewer=people.reviewer)
    version = application_version(application=application)
    field = application.documents.get().fields.first()
    outcomes = race(
        lambda: field_correct(
            field=field, value="Contoso Ltd", actor=people.reviewer, reason="Per the letter"
        ),
        lambda: application_decide(
            application=application, reviewer=people.reviewer, kind="approve", version=version
        ),
    )
    label = _kinds(outcomes)
    if problem := _unexpected(outcomes):
        return label, problem
    if all(kind == "ok" for kind, _ in outcomes):
        return label, "both the correction and the approval succeeded"
    application.refresh_from_db()
    if application.status == Application.Status.APPROVED:
        for value in Field.objects.filter(document__application=application):
            last = value.revisions.order_by("-number").first()
            if value.status != Field.Status.VERIFIED or last.action != "verified":
                return label, f"{value.key} changed after the approval"
            if last.value != value.value:
                return label, f"{value.key} is not the verified value"
    return label, None


def waive_vs_claim(people: People) -> tuple[str, str | None]:
    """One reviewer claims while another waives a flag from a page opened before: the waiver
    claims first and the claim is refused, or the claim wins and the waiver is refused."""
    application = _application(people, submitted=True)
    flag = FlagFactory(application=application, severity=Severity.HIGH)
    outcomes = race(
        lambda: application_claim(application=application, reviewer=people.reviewer),
        lambda: flag_waive(flag=flag, actor=people.other, note="Seen the bank statement"),
    )
    label = _kinds(outcomes)
    if problem := _unexpected(outcomes):
        return label, problem
    if all(kind == "ok" for kind, _ in outcomes):
        return label, "both the claim and the waiver succeeded"
    application.refresh_from_db()
    flag.refresh_from_db()
    if flag.status == Flag.Status.WAIVED and flag.resolved_by_id != application.assigned_to_id:
        return label, "waived by someone who does not hold the claim"
    if flag.status == Flag.Status.OPEN and application.assigned_to_id != people.reviewer.pk:
        return label, "the claim was lost"
    return label, None


def waive_several_twice(people: People) -> tuple[str, str | None]:
    """The same "waive the ticked flags" form sent twice at once (a double click): one
    request waives them all, the other is refused; one waiver event per flag."""
    application = _application(people, submitted=True)
    application_claim(application=application, reviewer=people.reviewer)
    ids = [FlagFactory(application=application, severity=Severity.LOW).pk for _ in range(3)]

    def waive():
        return flags_waive(
            application=application, flag_ids=ids, actor=people.reviewer, note="Known scans"
        )

    outcomes = race(waive, waive)
    label = _kinds(outcomes)
    if problem := _unexpected(outcomes):
        return label, problem
    if sorted(kind for kind, _ in outcomes) != ["ok", "refused"]:
        return label, f"expected one waiver and one refusal, got {label}"
    events = AuditEvent.objects.filter(application_id=application.pk, action=Action.FLAG_WAIVED)
    if events.count() != len(ids):
        return label, f"{events.count()} waiver events for {len(ids)} flags"
    return label, None


def waive_several_vs_claim(people: People) -> tuple[str, str | None]:
    """One reviewer claims while another waives several flags from a page opened before: all
    the flags are waived by the claim's holder, or none is."""
    application = _application(people, submitted=True)
    ids = [FlagFactory(application=application, severity=Severity.MEDIUM).pk for _ in range(2)]
    outcomes = race(
        lambda: application_claim(application=application, reviewer=people.reviewer),
        lambda: flags_waive(
            application=application, flag_ids=ids, actor=people.other, note="Seen them"
        ),
    )
    label = _kinds(outcomes)
    if problem := _unexpected(outcomes):
        return label, problem
    if all(kind == "ok" for kind, _ in outcomes):
        return label, "both the claim and the waivers succeeded"
    application.refresh_from_db()
    statuses = set(Flag.objects.filter(pk__in=ids).values_list("status", flat=True))
    if len(statuses) != 1:
        return label, "some flags waived, some not"
    waivers = Flag.objects.filter(pk__in=ids, status=Flag.Status.WAIVED)
    if waivers.exclude(resolved_by_id=application.assigned_to_id).exists():
        return label, "waived by someone who does not hold the claim"
    return label, None


def two_reviewers_decide(people: People) -> tuple[str, str | None]:
    """Two reviewers decide an unclaimed application at once: exactly one decision stands,
    made by the one who holds the claim."""
    application = _application(people, submitted=True)
    version = application_version(application=application)
    outcomes = race(
        lambda: application_decide(
            application=application, reviewer=people.reviewer, kind="approve", version=version
        ),
        lambda: application_decide(
            application=application,
            reviewer=people.other,
            kind="reject",
            version=version,
            note="Income not shown",
        ),
    )
    label = _kinds(outcomes)
    if problem := _unexpected(outcomes):
        return label, problem
    decisions = list(Decision.objects.filter(application=application))
    application.refresh_from_db()
    if len(decisions) != 1:
        return label, f"{len(decisions)} decisions"
    if decisions[0].reviewer_id != application.assigned_to_id:
        return label, "decided by someone who does not hold the claim"
    return label, None


RACES: dict[str, Callable[[People], tuple[str, str | None]]] = {
    "upload vs submit": upload_vs_submit,
    "correction vs approve": correction_vs_approve,
    "waive vs claim": waive_vs_claim,
    "waive several, sent twice": waive_several_twice,
    "waive several vs claim": waive_several_vs_claim,
    "two reviewers decide": two_reviewers_decide,
}


@dataclass
class RaceResult:
    name: str
    iterations: int = 0
    violations: list[str] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)


def race_run(name: str, *, iterations: int, people: People | None = None) -> RaceResult:
    people = people or People.make()
    result = RaceResult(name=name)
    for _ in range(iterations):
        label, violation = RACES[name](people)
        result.iterations += 1
        result.outcomes[label] += 1
        if violation:
            result.violations.append(violation)
    return result
