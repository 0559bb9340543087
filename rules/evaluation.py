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
_HEAVY_DOCUMENT_PARTS = ("text", "hidden_text", "fields", "field_list")


def _names(spec: RuleSpec) -> frozenset[str]:
    """Every identifier in the rule's expression and message (a superset of what it reads)."""
    return frozenset(_NAME.findall(f"{spec.expression} {spec.message}"))


def _slim(document: dict, names: frozenset[str]) -> dict:
    drop = [part for part in _HEAVY_DOCUMENT_PARTS if part not in names]
    if not drop:
        return document
    return {key: value for key, value in document.items() if key not in drop}


class _Variables:
    """A CEL context holding only the variables its rules' expressions and messages name.

    The CEL binding converts a variable from Python when it is added (a statement's 500
    typed rows take about 15 ms), so a context that carried every document's page text into
    every field check would cost milliseconds per check; passing only what the rules name
    keeps a check in microseconds.
    """

    def __init__(self, names: frozenset[str], app: ApplicationContext):
        self.names = names
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


class _Evaluation:
    """Every rule of one evaluation over one application, each rule's findings kept apart.

    Rules of one scope share one context per document (and per field), so each variable is
    converted once per evaluation rather than once per rule: a 20-page statement's rows were
    converted again for each of a dozen rules, 300 ms of every rules run. What a rule can see
    is unchanged: its scope's variables, as before. A rule that fails anywhere gives only
    its rule-error finding (the first failure) and is not run again; the others go on.
    """

    def __init__(self, specs: list[RuleSpec], app: ApplicationContext):
        self.specs, self.app = specs, app
        self.programs: dict[int, object] = {}
        self.found: dict[int, list[Finding]] = {index: [] for index in range(len(specs))}
        self.failed: dict[int, Finding] = {}
        for index, spec in enumerate(specs):
            try:
                self.programs[index] = compile_expression(spec.expression)
            except ExpressionError as error:
                self.failed[index] = _error_finding(RuleFailed(spec, "compile", error))

    def rules(self, wanted) -> list[int]:
        return [index for index in self.programs if wanted(self.specs[index].scope)]

    def variables(self, rules: list[int]) -> _Variables | None:
        if not rules:
            return None
        return _Variables(frozenset().union(*(_names(self.specs[i]) for i in rules)), self.app)

    def attempt(self, index: int, context, where: str, document_id=None, field_id=None) -> None:
        """Run rule ``index`` once; a finding, or its failure, is recorded under it."""
        if index in self.failed:
            return
        spec = self.specs[index]
        try:
            if not _fires(spec, self.programs[index], context):
                return
            message, values = _render(spec, context)
        except ExpressionError as error:
            self.failed[index] = _error_finding(RuleFailed(spec, where, error))
            self.found[index] = []
            return
        self.found[index].append(
            Finding(
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
        )

    def run(self) -> list[Finding]:
        app = self.app
        on_application = self.rules(lambda scope: scope == Scope.APPLICATION)
        on_fields = self.rules(lambda scope: scope == Scope.FIELD)
        on_documents = self.rules(lambda scope: scope not in (Scope.APPLICATION, Scope.FIELD))
        if variables := self.variables(on_application):
            for index in on_application:
                self.attempt(index, variables.context, f"application {app.reference}")
        document_variables = self.variables(on_documents)
        field_variables = self.variables(on_fields)
        for document in app.documents:
            where = f"“{document.variables['name']}”"
            wanted = [
                index
                for index in on_documents
                if self.specs[index].scope == Scope.DOCUMENT
                or document.type_key == self.specs[index].scope
            ]
            if wanted:
                document_variables.set("doc", document.variables)
                for index in wanted:
                    linked = next(
                        (
                            fid
                            for fid, key, _ in document.fields
                            if key == self.specs[index].link_field
                        ),
                        None,
                    )
                    self.attempt(
                        index, document_variables.context, where, document.document_id, linked
                    )
            if field_variables is None:
                continue
            field_variables.set("doc", document.variables)
            for field_id, key, variables in document.fields:
                field_variables.set("field", variables)
                for index in on_fields:
                    self.attempt(
                        index,
                        field_variables.context,
                        f"{key} of {where}",
                        document.document_id,
                        field_id,
                    )
        return [
            finding
            for index in range(len(self.specs))
            for finding in ([self.failed[index]] if index in self.failed else self.found[index])
        ]


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
    """Every finding of every rule on one application, rule by rule in ``specs``' order; a
    failing rule yields one rule-error finding (the first failure) and does not stop the
    others."""
    return _Evaluation(specs, app).run()
