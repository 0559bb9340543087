"""The engine: bounded expressions, rule errors, automatic resolution and versions."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from extraction.models import Document
from review.services import field_correct
from rules.expressions import ExpressionError, compile_expression, new_context, run
from rules.models import Flag, Rule, RuleError
from rules.services import (
    flags_refresh,
    rule_create,
    rule_disable,
    rule_update,
    rules_sync,
)

pytestmark = pytest.mark.django_db


def test_an_expression_error_names_its_line_and_column():
    with pytest.raises(ExpressionError) as caught:
        compile_expression("doc.values.net_pay >\n  ")
    assert (caught.value.line, caught.value.column) == (2, 3)
    assert str(caught.value).startswith("line 2, column 3: ")


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 40 + "1" + ")" * 40,
        "1 + " * 600 + "1",
        "[" + ", ".join(["1"] * 101) + "]",
        "documents.all(a, documents.all(b, documents.all(c, true)))",
    ],
    ids=["deep", "long", "long-list", "nested-comprehensions"],
)
def test_an_expression_that_could_run_away_is_refused(expression):
    with pytest.raises(ExpressionError):
        compile_expression(expression)


def test_the_largest_accepted_expression_still_runs_quickly():
    """Two nested comprehensions over the longest list literal: the bounded worst case."""
    items = "[" + ", ".join(["1"] * 100) + "]"
    program = compile_expression(f"{items}.all(a, {items}.exists(b, a + b < 0)) == false")
    started = time.perf_counter()
    assert run(program, new_context()) is True
    assert time.perf_counter() - started < 2


def test_the_sandbox_offers_no_list_builder():
    """lists.range(n) would make a list of any size; it is left out of the library."""
    with pytest.raises(ExpressionError):
        run(compile_expression("lists.range(100000000).size() > 0"), new_context())


def test_an_expression_is_compiled_once_per_text():
    assert compile_expression("1 + 1 == 2") is compile_expression("1 + 1 == 2")


def admin_rule(admin_user, **overrides):
    data = {
        "key": "big_net",
        "title": "Big net pay",
        "expression": "doc.values.net_pay != null && doc.values.net_pay > 1000.0",
        "severity": "high",
        "scope": "pay_stub",
        "message": "Net pay {{ money(doc.values.net_pay) }}.",
        "link_field": "net_pay",
        **overrides,
    }
    return rule_create(actor=admin_user, **data)


def test_a_rule_that_fails_at_run_time_is_recorded_for_admins_not_flagged_and_others_run(
    build, admin_user, django_capture_on_commit_callbacks
):
    application, _ = build({"pay_stub": {"net_pay": "2,700.00", "total_deductions": ""}})
    rules_sync()
    # Type-checks (total_deductions is a declared amount) but is null here: null > 1.0 fails.
    admin_rule(admin_user, expression="doc.values.total_deductions > 1.0")
    with django_capture_on_commit_callbacks(execute=True):
        flags_refresh(application=application)
    assert not application.flags.filter(rule_key__startswith="rule_error:").exists()
    assert not application.flags.filter(rule_key="big_net").exists()
    assert application.flags.filter(rule_key="net_above_gross", status="open").exists()
    rule = Rule.objects.get(key="big_net")
    error = RuleError.objects.get(version=rule.current)
    assert error.count == 1
    assert error.last_application == application
    assert "pay_stub.pdf" in error.last_where
    assert error.last_message
    with django_capture_on_commit_callbacks(execute=True):
        flags_refresh(application=application)
    error.refresh_from_db()
    assert error.count == 2
    # A fixed rule is a new version with no errors; the old version keeps its record.
    rule_update(
        rule=rule,
        actor=admin_user,
        expression="doc.values.total_deductions != null && doc.values.total_deductions > 1.0",
    )
    with django_capture_on_commit_callbacks(execute=True):
        flags_refresh(application=application)
    rule.refresh_from_db()
    assert not RuleError.objects.filter(version=rule.current).exists()
    assert RuleError.objects.get(version__rule=rule).count == 2


def test_a_rule_that_gives_no_boolean_at_run_time_is_a_rule_error_not_a_flag(
    build, admin_user, django_capture_on_commit_callbacks
):
    """field.value has no static type (it depends on the field's kind), so only running it
    finds that it gives no boolean."""
    application, _ = build()
    admin_rule(admin_user, scope="field", expression="field.value", link_field="")
    with django_capture_on_commit_callbacks(execute=True):
        flags_refresh(application=application)
    error = RuleError.objects.get(version__rule__key="big_net")
    assert "true or false" in error.last_message
    assert not application.flags.filter(rule_key__contains="big_net").exists()


def test_a_failing_rule_keeps_the_flags_it_raised_when_its_values_were_readable(
    build, admin_user, django_capture_on_commit_callbacks
):
    """A rule that cannot run on an application says nothing about whether its flag still
    holds, so an open flag of that rule stays open."""
    application, documents = build({"pay_stub": {"net_pay": "2,700.00"}})
    admin_rule(admin_user, expression="doc.values.total_deductions > 1.0")
    flags_refresh(application=application)
    flag = application.flags.get(rule_key="big_net")
    assert flag.status == Flag.Status.OPEN
    field = documents["pay_stub"].fields.get(key="total_deductions")
    field_correct(field=field, value="", actor=application.owner, reason="Not on the stub")
    with django_capture_on_commit_callbacks(execute=True):
        flags_refresh(application=application)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert RuleError.objects.filter(version__rule__key="big_net").exists()


def test_a_broken_rule_does_not_stop_extraction(applicant, shipped_types, admin_user):
    from applications.services import application_create
    from extraction.pipeline import document_process
    from extraction.services import document_upload
    from tests.builders import pdf_bytes, upload

    rules_sync()
    admin_rule(admin_user, scope="document", expression="doc.values.gross_pay > 1.0")
    application = application_create(owner=applicant, stated_name="Jordan Rivera")
    document = document_upload(
        application=application,
        uploaded_file=upload("stub.pdf", pdf_bytes()),
        actor=applicant,
        document_type=shipped_types["pay_stub"],
    )
    document_process(document_id=document.pk)
    document.refresh_from_db()
    assert document.status in (Document.Status.EXTRACTED, Document.Status.NEEDS_MANUAL_ENTRY)
    assert not application.flags.filter(rule_key__startswith="rule_error:").exists()
    assert application.flags.filter(rule_key="required_missing").exists()


def test_a_flag_resolves_itself_when_a_correction_removes_its_cause(build, applicant):
    application, documents = build({"pay_stub": {"net_pay": "2,700.00", "total_deductions": ""}})
    flags_refresh(application=application)
    flag = application.flags.get(rule_key="net_above_gross")
    field_correct(
        field=documents["pay_stub"].fields.get(key="net_pay"), value="1,987.60", actor=applicant
    )
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED
    assert flag.note == "No longer applies after the values changed."
    assert flag.resolved_at is not None


def test_a_flag_keeps_the_rule_version_that_raised_it(build, admin_user):
    application, _ = build()
    rule = admin_rule(admin_user)
    first = rule.current
    flags_refresh(application=application)
    flag = application.flags.get(rule_key="big_net")
    assert (flag.rule_version, flag.rule_revision) == (1, first)

    second = rule_update(
        rule=rule, actor=admin_user, message="Net {{ money(doc.values.net_pay) }} (v2).", note="x"
    )
    assert second.number == 2
    flags_refresh(application=application)
    flag.refresh_from_db()
    assert (flag.rule_version, flag.rule_revision) == (1, first)
    assert flag.message == "Net 1,987.60 (v2)."
    first.refresh_from_db()
    assert first.message == "Net pay {{ money(doc.values.net_pay) }}."


def test_an_edit_that_changes_nothing_adds_no_version(admin_user, shipped_types):
    rule = admin_rule(admin_user)
    assert rule_update(rule=rule, actor=admin_user, title="Big net pay") == rule.current
    assert rule.versions.count() == 1


def test_disabling_a_rule_resolves_its_flags_and_says_why(build, admin_user):
    application, _ = build()
    rule = admin_rule(admin_user)
    flags_refresh(application=application)
    rule_disable(rule=rule, actor=admin_user)
    flags_refresh(application=application)
    flag = application.flags.get(rule_key="big_net")
    assert flag.status == Flag.Status.RESOLVED
    assert flag.note == "Resolved because the rule was disabled."
    assert rule.versions.count() == 2


def test_a_rule_that_does_not_compile_is_refused_with_its_position(admin_user):
    with pytest.raises(ValidationError) as caught:
        admin_rule(admin_user, expression="doc.values.net_pay >")
    assert caught.value.message_dict["expression"][0].startswith("line 1, column 21")
    assert not Rule.objects.filter(key="big_net").exists()


def test_only_admins_change_rules(reviewer):
    with pytest.raises(PermissionDenied):
        admin_rule(reviewer)


def test_syncing_the_pack_twice_changes_nothing_and_keeps_an_admins_edit(admin_user):
    rules_sync()
    rule = Rule.objects.get(key="pay_date_stale")
    rule_update(rule=rule, actor=admin_user, severity="high")
    rules_sync()
    rule.refresh_from_db()
    assert rule.versions.count() == 2
    assert rule.current.severity == "high"


def test_risk_score_counts_open_flags_only(build, reviewer):
    from rules.services import flag_waive

    application, _ = build({"pay_stub": {"net_pay": "2,700.00", "total_deductions": ""}})
    flags_refresh(application=application)
    # Flags are waived in review, on a submitted application.
    type(application).objects.filter(pk=application.pk).update(
        status="submitted", submitted_at=timezone.now()
    )
    application.refresh_from_db()
    assert application.risk_score == 20
    flag_waive(flag=application.flags.get(rule_key="net_above_gross"), actor=reviewer, note="ok")
    application.refresh_from_db()
    assert application.risk_score == 0


@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_concurrent_workers_are_all_counted(
    staff_groups, admin_user, shipped_types
):
    """Workers refreshing different applications at once each add their failure: the first
    inserts race, the count is one UPDATE, and nothing is lost."""
    import threading

    from django.db import connection

    from rules.evaluation import Finding
    from rules.services import rule_errors_record

    rule = admin_rule(admin_user, expression="doc.values.total_deductions > 1.0")
    failure = Finding(
        rule_key="rule_error:big_net",
        title="x",
        severity="info",
        message="x",
        values={"error": "No such overload", "where": "“pay_stub.pdf”"},
        rule_revision_id=rule.current_id,
    )
    threads_count, rounds = 6, 10
    barrier = threading.Barrier(threads_count)
    problems = []

    def work():
        try:
            barrier.wait()
            for _ in range(rounds):
                rule_errors_record(failures=[failure], application_id=None)
        except Exception as error:  # noqa: BLE001 - reported below
            problems.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    assert RuleError.objects.get(version=rule.current).count == threads_count * rounds
