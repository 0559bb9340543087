"""Admin screens for rules: list, create, edit (a new version), disable, check, try, back-test.

Every screen needs applications.audit_history. Try and back-test are named submit buttons on the
editor; with htmx they return only their result partial, without it the whole page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from .context import sample_variables
from .expressions import ExpressionError, check_expression
from .forms import BacktestForm, RuleForm, TryForm
from .jobs import rule_backtest_start
from .models import Scope
from .selectors import (
    application_find,
    rule_errors,
    rule_get,
    rule_job_get,
    rule_jobs,
    rule_list,
    rule_try,
    rule_versions,
)
from .services import RULE_FIELDS, rule_create, rule_disable, rule_enable, rule_update
from .typecheck import check_rule_types, declared_types

audit_required = permission_required("applications.audit_history", raise_exception=True)


@login_required
@audit_required
def rule_list_view(request):
    page = Paginator(rule_list(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "rules/list.html",
        {"page_obj": page, "rows": page.object_list, "nav": "rules"},
    )


@login_required
@audit_required
def rule_health_view(request):
    """Rule versions that failed at run time, with counts and the last error."""
    page = Paginator(rule_errors(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "rules/health.html",
        {"page_obj": page, "rows": page.object_list, "nav": "rules"},
    )


@login_required
@audit_required
@require_GET
def rule_job_view(request, job_id: int):
    """A re-check's or back-test's progress, then its result; polls itself while it runs."""
    return render(request, "rules/job.html", {"job": rule_job_get(job_id=job_id)})


@login_required
@audit_required
def rule_create_view(request):
    return _editor(request, rule=None)


@login_required
@audit_required
def rule_edit_view(request, key: str):
    return _editor(request, rule=rule_get(key=key))


def _initial(rule) -> dict:
    if rule is None:
        return {"scope": Scope.APPLICATION}
    return {"key": rule.key, **{name: getattr(rule.current, name) for name in RULE_FIELDS}}


def _editor(request, *, rule):
    editing = rule is not None
    context = {"rule": rule, "nav": "rules", "editing": editing}
    try_form = TryForm(request.POST if "try" in request.POST else None)
    backtest_form = BacktestForm(request.POST if "backtest" in request.POST else None)
    if request.method != "POST":
        form = RuleForm(initial=_initial(rule), editing=editing)
        return _render_editor(request, form, try_form, backtest_form, context)

    if editing and ("disable" in request.POST or "enable" in request.POST):
        change = rule_disable if "disable" in request.POST else rule_enable
        change(rule=rule, actor=request.user, note=request.POST.get("note", ""))
        messages.success(request, f"Rule {rule.key} is now version {rule.versions.count()}.")
        return redirect("rule_edit", key=rule.key)

    data = request.POST.copy()
    if editing:
        data["key"] = rule.key
    form = RuleForm(data, initial=_initial(rule), editing=editing)
    if "try" in request.POST or "backtest" in request.POST:
        return _draft_results(request, form, try_form, backtest_form, context)
    if form.is_valid():
        fields = {name: form.cleaned_data[name] for name in RULE_FIELDS}
        note = form.cleaned_data["note"]
        try:
            if editing:
                version = rule_update(rule=rule, actor=request.user, note=note, **fields)
                messages.success(request, f"Saved as version {version.number}.")
            else:
                rule = rule_create(
                    actor=request.user, key=form.cleaned_data["key"], note=note, **fields
                )
                messages.success(request, "Rule created as version 1.")
            return redirect("rule_edit", key=rule.key)
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
    return _render_editor(request, form, try_form, backtest_form, context)


def _draft_results(request, form, try_form, backtest_form, context):
    partial = "try" if "try" in request.POST else "backtest"
    if not form.is_valid():
        context["draft_invalid"] = True
    elif partial == "try" and try_form.is_valid():
        application = application_find(reference=try_form.cleaned_data["reference"])
        context["tried"] = True
        context["application"] = application
        if application is not None:
            context["findings"] = rule_try(spec=form.spec(_key(context)), application=application)
    elif partial == "backtest" and backtest_form.is_valid():
        # Thousands of applications take tens of seconds: a worker runs it, the page polls.
        context["backtest_job"] = rule_backtest_start(
            spec=form.spec(_key(context)),
            limit=backtest_form.cleaned_data["limit"],
            actor=request.user,
        )
    if request.htmx:
        context.update(form=form, try_form=try_form, backtest_form=backtest_form)
        return render(request, f"rules/edit.html#{partial}", context)
    return _render_editor(request, form, try_form, backtest_form, context)


def _key(context) -> str:
    return context["rule"].key if context["rule"] else ""


def _render_editor(request, form, try_form, backtest_form, context):
    rule = context["rule"]
    if rule is not None:
        context["versions"] = rule_versions(rule=rule)[:20]
        context["errors"] = rule_errors(rule=rule)[:20]
        context["recheck"] = rule_jobs(rule=rule).first()
    context.update(form=form, try_form=try_form, backtest_form=backtest_form)
    return render(request, "rules/edit.html", context)


@login_required
@audit_required
@require_POST
def rule_check_view(request):
    """The expression checked as it is typed: the error at its position, or a go-ahead."""
    text = request.POST.get("expression", "")
    context = {"text": text}
    if not text.strip():
        # Nothing typed yet (a new rule): no verdict rather than an error before the first key.
        return render(request, "rules/edit.html#check", context)
    try:
        check_expression(text)
        check_rule_types(text, scope=request.POST.get("scope", ""), types=declared_types())
    except ExpressionError as error:
        context["error"] = error
        if error.line is not None:
            lines = text.split("\n")
            context["source_line"] = lines[error.line - 1] if error.line <= len(lines) else ""
            context["caret"] = " " * max(error.column - 1, 0) + "^"
        return render(request, "rules/edit.html#check", context)
    try:
        check_expression(text, sample=sample_variables(request.POST.get("scope", "")))
    except ExpressionError as error:
        context["warning"] = error
    context["ok"] = True
    return render(request, "rules/edit.html#check", context)
