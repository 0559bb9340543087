"""Request contracts taken from the providers' own SDK types (test environment only).

Anthropic publishes no machine-readable description of its Messages API, but its Python SDK
(``anthropic``, a dev dependency) is generated from the API's own specification and defines
every request body as ``TypedDict``s: ``MessageCreateParamsNonStreaming`` is exactly what
``POST /v1/messages`` takes. ``anthropic_request_problem`` validates a body against it through
pydantic, with unknown keys forbidden at every level, so that a removed parameter
(``temperature``), a misspelt one or a block of the wrong shape fails as the real API fails it.

Two things stand in the way and are handled here:

- pydantic validates ``Iterable[...]`` fields lazily (items are checked when consumed), so the
  validated value is drained recursively;
- the SDK's TypedDicts and its response models (accepted back as content blocks) allow extra
  keys by default; each is given ``extra="forbid"`` once, in this process only.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from typing_extensions import is_typeddict

# The version the installed SDK sends (anthropic._constants.ANTHROPIC_API_VERSION).
_lock = threading.Lock()


def _forbid_extra_keys(package: str) -> None:
    """Give every TypedDict and response model of ``package`` ``extra="forbid"``."""
    module = importlib.import_module(package)
    models: list[type[BaseModel]] = []
    for info in pkgutil.iter_modules(module.__path__):
        if info.ispkg:
            continue
        sub = importlib.import_module(f"{package}.{info.name}")
        for value in vars(sub).values():
            if not isinstance(value, type) or not value.__module__.startswith(package):
                continue
            if is_typeddict(value):
                config = dict(value.__dict__.get("__pydantic_config__") or {})
                value.__pydantic_config__ = {**config, "extra": "forbid"}  # type: ignore[attr-defined]
            elif issubclass(value, BaseModel) and value.model_config.get("extra") != "forbid":
                value.model_config = {**value.model_config, "extra": "forbid"}
                models.append(value)
    # Twice: a model rebuilt before a model it holds would keep the nested one's old schema.
    for _ in range(2):
        for model in models:
            model.model_rebuild(force=True)


@lru_cache(maxsize=1)
def _anthropic_adapter() -> TypeAdapter:
    with _lock:
        _forbid_extra_keys("anthropic.types")
        from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

        return TypeAdapter(MessageCreateParamsNonStreaming)


def anthropic_api_version() -> str:
    """The ``anthropic-version`` the installed SDK sends."""
    from anthropic._constants import ANTHROPIC_API_VERSION

    return ANTHROPIC_API_VERSION


def _drain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _drain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, Iterator)):
        return [_drain(item) for item in value]
    return value


def anthropic_request_problem(body: Any) -> str | None:
    """Why the SDK's ``MessageCreateParamsNonStreaming`` refuses ``body``, or None."""
    if not isinstance(body, dict):
        return "The body is not a JSON object."
    adapter = _anthropic_adapter()
    try:
        _drain(adapter.validate_python(body))
    except ValidationError as exc:
        first = _telling_error(exc.errors())
        where = "/".join(str(p) for p in first["loc"]) or "(body)"
        return f"{where}: {first['msg']} ({exc.error_count()} problems in all)"
    return None


def _telling_error(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The error that says what is wrong. A block of a union is tried against every member, so
    one unknown key yields errors from each member; the member that failed only for unknown
    keys is the one the body meant, and its error names the key."""
    branches: dict[tuple, list[dict[str, Any]]] = {}
    for error in errors:
        branches.setdefault(tuple(error["loc"][:-1]), []).append(error)
    extra_only = [b for b in branches.values() if all(e["type"] == "extra_forbidden" for e in b)]
    if extra_only:
        return min(extra_only, key=len)[0]
    return errors[0]


def warm_up() -> None:
    """Build the validators now (a few seconds, once per process) rather than mid-request."""
    _anthropic_adapter()


# --- AWS Bedrock: botocore's own service model -------------------------------------------------


@lru_cache(maxsize=1)
def _converse_shape() -> Any:
    from botocore.session import get_session

    return get_session().get_service_model("bedrock-runtime").operation_model("Converse")


def _from_wire(shape: Any, value: Any) -> Any:
    """A JSON wire value as botocore's Python parameters: blobs travel base64-encoded."""
    if shape is None:
        return value
    kind = shape.type_name
    if (
        kind == "structure"
        and isinstance(value, dict)
        and not getattr(shape, "is_document_type", False)
    ):
        return {k: _from_wire(shape.members.get(k), v) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_from_wire(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _from_wire(shape.value, v) for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        import base64
        import binascii

        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            return value  # left a string: the validator reports the wrong type
    return value


def bedrock_converse_problem(body: Any, model_id: str) -> str | None:
    """Why Bedrock's Converse would refuse this body, by botocore's service model for
    ``bedrock-runtime`` (unknown keys, wrong types, missing required members), or None."""
    from botocore.validate import ParamValidator

    if not isinstance(body, dict):
        return "The body is not a JSON object."
    operation = _converse_shape()
    if "modelId" in body:
        return "modelId: part of the URL, not the body."
    params = _from_wire(operation.input_shape, {**body, "modelId": model_id})
    report = ParamValidator().validate(params, operation.input_shape)
    if report.has_errors():
        return report.generate_report()
    return None
