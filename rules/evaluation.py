"""Running rules over an application's context: findings in, never an exception out.

A rule that fails (a bad expression, a wrong type, a value it did not expect) becomes a
"rule error" finding for admins instead of stopping the pipeline or the other rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .context import ApplicationContext
from .expressions import ExpressionError, compile_expression, new_context, run
from .models import RULE_ERROR_PREFIX, RuleVersion, Scope, Severity


@dataclass(frozen=True)
class RuleSpec:
    """What evaluation needs of a rule; built from a RuleVersion or from an unsaved draft."""

    key: str
    title: str
    expression: str
    severity: str
    scope: str
    message: str
    link_field: str = ""
    version: int = 0
    revision_id: int | None = None

    @classmethod
    def from_version(cls, version: RuleVersion) -> RuleSpec:
        return cls(
            key=version.rule.key,
            title=version.title,
            expression=version.expression,
            severity=version.severity,
            scope=version.scope,
            message=version.message,
            link_field=version.link_field,
            version=version.number,
            revision_id=version.pk,
        )


@dataclass(frozen=True)
class Finding:
    rule_key: str
    title: str
    severity: str
    message: str
    document_id: int | None = None
    field_id: int | None = None
    values: dict = field(default_factory=dict)
    rule_version: int = 0
    rule_revision_id: int | None = None

    @property
    def identity(self) -> tuple:
        return (self.rule_key, self.document_id, self.field_id)

    @property
    def is_rule_error(self) -> bool:
        return self.rule_key.startswith(RULE_ERROR_PREFIX)


_PLACEHOLDER = re.compile(r"\{\{\s*(.+?)\s*\}\}", re.DOTALL)


def placeholders(message: str) -> list[str]:
    return [match.group(1) for match in _PLACEHOLDER.finditer(message)]


def show(value) -> str:
    """A value as a reviewer reads it: amounts with two decimals, dates as days, lists joined."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(show(item) for item in value)
    return str(value)


def _render(spec: RuleSpec, context) -> tuple[str, dict]:
    """The message with each ``{{ expression }}`` replaced by its value, and those values.

    Placeholders are CEL too, so a message can show anything a rule can see and nothing more.
    """
    values = {}
    for source in placeholders(spec.message):
        try:
            values[source] = show(run(compile_expression(source), context))
        except ExpressionError:
            values[source] = "?"
    message = _PLACEHOLDER.sub(lambda match: values.get(match.group(1), "?"), spec.message)
    return message, values


class RuleFailed(Exception):
    def __init__(self, spec: RuleSpec, where: str, error: Exception):
        super().__init__(str(error))
        self.spec = spec
        self.where = where
        self.error = error


def _fires(spec: RuleSpec, program, context) -> bool:
    result = run(program, context)
    if not isinstance(result, bool):
        raise ExpressionError(
            f"The rule must give true or false; it gave {type(result).__name__} {result!r:.60}."
        )
    return result


def _error_finding(failure: RuleFailed) -> Finding:
    spec = failure.spec
    return Finding(
        rule_key=f"{RULE_ERROR_PREFIX}{spec.key}"[:80],
        title=f"Rule could not run: {spec.title}"[:200],
        severity=Severity.INFO,
        message=(
            f"Rule “{spec.key}” (version {spec.version}) failed on {failure.where}: "
            f"{failure.error}. The other rules ran; an admin should fix or disable this one."
        ),
        values={"error": str(failure.error), "where": failure.where},
        rule_version=spec.version,
        rule_revision_id=spec.revision_id,
    )


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Parts of a document that are large; a rule that never names them does not receive them.
_HEAVY_DOCUMENT_PARTS = ("text", "fields", "field_list")


def _names(spec: RuleSpec) -> frozenset[str]:
    """Every identifier in the rule's expression and message (a superset of what it reads)."""
    return frozenset(_NAME.findall(f"{spec.expression} {spec.message}"))


def _slim(document: dict, names: frozenset[str]) -> dict:
    drop = [part for part in _HEAVY_DOCUMENT_PARTS if part not in names]
    if not drop:
        return document
    return {key: value for key, value in document.items() if key not in drop}


class _Variables:
    """The rule's CEL context, holding only the variables its expression and message name.

    The CEL binding converts every variable of a context from Python on each evaluation, so a
    context that carried every document's page text into every field check would cost
    milliseconds per check; passing only what a rule names keeps a check in microseconds.
    """

    def __init__(self, spec: RuleSpec, app: ApplicationContext):
        self.names = _names(spec)
        self.context = new_context()
        for name, value in app.variables.items():
            if name not in self.names:
                continue
            if name == "documents":
                value = [_slim(document, self.names) for document in value]
            elif name == "docs":
                value = {
                    key: [_slim(document, self.names) for document in documents]
                    for key, documents in value.items()
                }
            self.context.add_variable(name, value)

    def set(self, name: str, value) -> None:
        if name in self.names:
            self.context.add_variable(name, _slim(value, self.names) if name == "doc" else value)


def _evaluate_one(spec: RuleSpec, app: ApplicationContext) -> list[Finding]:
    program = compile_expression(spec.expression)
    variables = _Variables(spec, app)
    context = variables.context

    def finding(document_id=None, field_id=None) -> Finding:
        message, values = _render(spec, context)
        return Finding(
            rule_key=spec.key,
            title=spec.title,
            severity=spec.severity,
            message=message,
            document_id=document_id,
            field_id=field_id,
            values=values,
            rule_version=spec.version,
            rule_revision_id=spec.revision_id,
        )

    found = []
    if spec.scope == Scope.APPLICATION:
        try:
            if _fires(spec, program, context):
                found.append(finding())
        except ExpressionError as error:
            raise RuleFailed(spec, f"application {app.reference}", error) from None
        return found
    for document in app.documents:
        if spec.scope not in (Scope.DOCUMENT, Scope.FIELD) and document.type_key != spec.scope:
            continue
        variables.set("doc", document.variables)
        where = f"“{document.variables['name']}”"
        if spec.scope == Scope.FIELD:
            for field_id, key, field_variables in document.fields:
                variables.set("field", field_variables)
                try:
                    if _fires(spec, program, context):
                        found.append(finding(document.document_id, field_id))
                except ExpressionError as error:
                    raise RuleFailed(spec, f"{key} of {where}", error) from None
            continue
        try:
            if _fires(spec, program, context):
                linked = next(
                    (fid for fid, key, _ in document.fields if key == spec.link_field), None
                )
                found.append(finding(document.document_id, linked))
        except ExpressionError as error:
            raise RuleFailed(spec, where, error) from None
    return found


def spec_needs(specs: list[RuleSpec]) -> dict[str, bool]:
    """Which costly parts of a context these rules read (``contexts_build`` options).

    Loading page text and people's revisions is most of a context's cost; rules that mention
    neither do not pay for them.
    """
    source = " ".join(f"{spec.expression} {spec.message}" for spec in specs)
    return {
        "text": "text" in source or "ai_phrases" in source,
        "people": "changed_by" in source,
        "files": "same_file_elsewhere" in source,
    }


def findings_evaluate(specs: list[RuleSpec], app: ApplicationContext) -> list[Finding]:
    """Every finding of every rule on one application; a failing rule yields one rule-error
    finding (the first failure) and does not stop the others."""
    findings: list[Finding] = []
    for spec in specs:
        try:
            findings.extend(_evaluate_one(spec, app))
        except RuleFailed as failure:
            findings.append(_error_finding(failure))
        except ExpressionError as error:
            findings.append(_error_finding(RuleFailed(spec, "compile", error)))
    return findings
