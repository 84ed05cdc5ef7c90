"""Valves (admin settings) and UserValves (per-user settings), applied as Open WebUI applies them.

Open WebUI rebuilds a fresh `Valves` object from the stored dict on every call, with rules that
differ by plugin kind (Open WebUI 0.12.4 functions.py): pipes drop `None` values, other kinds do
not; a
pipe falls back to default UserValves when the stored ones no longer validate, a filter runs
without them, a toolkit fails. Saving stores only the fields that were set, so a new default in
the code reaches every field an admin never touched.
"""

from __future__ import annotations

import json
import logging
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.handlers import Handler
from pipehouse.plugin.kinds import PluginKind

log = logging.getLogger(__name__)

MASK = "********"
_SECRET_WORDS = {
    "key",
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "credential",
    "credentials",
    "passphrase",
}
# Words a secret name may start with (AUTH_TOKEN, BASIC_AUTH, SECRETS, CREDENTIAL_JSON), and a
# last word that makes one (AUTH_HEADER, EXTRA_HEADERS): what such fields hold is a credential.
_SECRET_PREFIXES = ("auth", "secret", "credential")
_NOT_SECRET_WORDS = {"author", "authors", "authored"}
_SECRET_LAST_WORDS = {"header", "headers"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# `scheme://user:password@host`: the password part of a URL, wherever it appears in a value
_URL_PASSWORD = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)(?P<password>[^\s/@]+)@"
)
_NUMBERS_AND_SWITCHES = (bool, int, float)


class ValvesError(PluginError):
    """Stored or submitted valves do not validate; `details["errors"]` lists each field."""


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in error["loc"]) or None,
            "message": error["msg"],
            "type": error["type"],
        }
        for error in exc.errors(include_url=False, include_input=False)
    ]


def validation_error(plugin_id: str, cls: type, exc: ValidationError) -> ValvesError:
    errors = _field_errors(exc)
    summary = "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
    )
    return ValvesError(
        plugin_id=plugin_id,
        message=f"invalid {cls.__name__}: {summary}",
        error_type="ValidationError",
        stage="valves",
        details={"errors": errors},
        hint=f"check the values given for {cls.__name__}; its schema lists the fields and types",
    )


def build_valves(
    plugin_id: str, kind: PluginKind, cls: type, stored: Mapping[str, Any] | None
) -> Any:
    """A fresh `Valves` from stored values, by the construction rule of `kind`."""
    values = dict(stored or {})
    if kind is PluginKind.PIPE:
        values = {k: v for k, v in values.items() if v is not None}
    try:
        return cls(**values)
    except ValidationError as exc:
        raise validation_error(plugin_id, cls, exc) from exc


def build_user_valves(
    plugin_id: str, kind: PluginKind, cls: type, stored: Mapping[str, Any] | None
) -> Any | None:
    """`__user__["valves"]` for one plugin; None means "leave the key out" (filters, actions)."""
    try:
        return cls(**dict(stored or {}))
    except ValidationError as exc:
        if kind is PluginKind.TOOLS:
            raise validation_error(plugin_id, cls, exc) from exc
        # the fields and why, never the values: user valves hold users' own keys
        fields = ", ".join(str(e["field"]) for e in _field_errors(exc))
        log.warning("stored user valves of %s do not validate (%s)", plugin_id, fields)
        return cls() if kind is PluginKind.PIPE else None


def validate_update(plugin_id: str, cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a valves save stores: the non-None fields that were set, validated."""
    try:
        model = cls(**{k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise validation_error(plugin_id, cls, exc) from exc
    stored = model.model_dump(mode="json", exclude_unset=True)
    for name in stored:  # the JSON dump shows a secret as "**********": store the secret itself
        value = getattr(model, name, None)
        if isinstance(value, SecretStr):
            stored[name] = value.get_secret_value()
    return stored


def _word_list(name: str) -> list[str]:
    return [w for w in _CAMEL.sub("_", name).lower().replace("-", "_").split("_") if w]


def is_secret_name(name: str) -> bool:
    """Names that hold credentials: `api_key`, `token`, `password`, ..., any word starting
    with `auth`, `secret` or `credential`, and names ending in `header(s)`."""
    words = _word_list(name)
    if not words:
        return False
    if set(words) & _SECRET_WORDS or words[-1] in _SECRET_LAST_WORDS:
        return True
    return any(w.startswith(_SECRET_PREFIXES) and w not in _NOT_SECRET_WORDS for w in words)


def _holds_numbers_only(annotation: Any) -> bool:
    """`bool`, `int`, `float` (or an Optional of them): a switch or a number, never a credential,
    whatever the field is called (`AUTH_ENABLED`, `TOKEN_LIMIT`)."""
    if annotation in _NUMBERS_AND_SWITCHES:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(args) and all(a in _NUMBERS_AND_SWITCHES for a in args)
    return False


def _is_secret_annotation(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_secret_annotation(a) for a in typing.get_args(annotation))
    return False


def secret_fields(cls: type | None) -> set[str]:
    """Fields whose values must never be shown: Secret types, password inputs, key-like names."""
    if cls is None or not issubclass(cls, BaseModel):
        return set()
    secret = set()
    for name, info in cls.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        widget = extra.get("input")
        if not isinstance(widget, dict):
            widget = {}
        if (
            _is_secret_annotation(info.annotation)
            or widget.get("type") == "password"
            or extra.get("format") == "password"
            or (is_secret_name(info.alias or name) and not _holds_numbers_only(info.annotation))
        ):
            secret.add(name)
    return secret


def mask_url_passwords(text: str) -> str:
    """`text` with the password of every `scheme://user:password@host` in it masked."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text) if "://" in text else text


def url_passwords(text: str) -> list[str]:
    """The passwords of the `scheme://user:password@host` URLs in `text`."""
    return [m["password"] for m in _URL_PASSWORD.finditer(text)] if "://" in text else []


def shown(value: Any, is_secret: bool) -> Any:
    """A valve's value as it may be shown: a secret as the mask, a URL without its password."""
    if is_secret and value not in (None, ""):
        return MASK
    if isinstance(value, str):
        return mask_url_passwords(value)
    return value


def mask(values: Mapping[str, Any], secret: Iterable[str]) -> dict[str, Any]:
    """A copy of `values` with every non-empty secret replaced by a fixed mask, and the
    password of every URL in the others masked too (`postgresql://u:********@host/db`)."""
    hidden = set(secret)
    return {k: shown(v, k in hidden) for k, v in values.items()}


def secret_strings(value: Any) -> list[str]:
    """The text a secret value holds: a string, a `SecretStr`, or the strings in a dict or a
    list of them (a headers dict)."""
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, SecretBytes):
        return [value.get_secret_value().decode("utf-8", "replace")]
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in secret_strings(v)]
    if isinstance(value, list | tuple | set):
        return [s for v in value for s in secret_strings(v)]
    return []


def secrets_in(values: Mapping[str, Any] | None, secret: Iterable[str]) -> set[str]:
    """Every secret value in a valves dict: the secret fields' text and URL passwords."""
    found: set[str] = set()
    if not values:
        return found
    hidden = set(secret)
    for name, value in values.items():
        if name in hidden:
            found.update(secret_strings(value))
        elif isinstance(value, str):
            found.update(url_passwords(value))
    return found


def _field_values(obj: Any, cls: type | None) -> dict[str, Any]:
    if isinstance(obj, BaseModel):
        return {name: getattr(obj, name, None) for name in type(obj).model_fields}
    if cls is not None and issubclass(cls, BaseModel):  # the class: its defaults
        values = {}
        for name, info in cls.model_fields.items():
            try:
                values[name] = info.get_default(call_default_factory=True, validated_data={})
            except Exception:  # a default factory that needs other fields: not a default
                continue
        return values
    return {}


def held_secrets(instance: Any, valves_cls: type | None, user_valves_cls: type | None) -> set[str]:
    """Every secret value a live plugin holds, whatever its origin: its `valves` object (values
    set in `__init__`, from the environment, stored), the defaults of both valves classes, and
    instance attributes with secret names (`self.api_key = os.environ[...]`)."""
    found: set[str] = set()
    valves_obj = getattr(instance, "valves", None)
    for obj, cls in ((valves_obj, valves_cls), (None, valves_cls), (None, user_valves_cls)):
        actual = type(obj) if isinstance(obj, BaseModel) else cls
        found |= secrets_in(_field_values(obj, cls), secret_fields(actual))
    for name, value in (getattr(instance, "__dict__", None) or {}).items():
        if is_secret_name(name):
            found.update(secret_strings(value))
        elif isinstance(value, str):
            found.update(url_passwords(value))
    return found


def schema(cls: type | None, user: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """JSON Schema of a Valves class, with `input.options` resolved as Open WebUI resolves them."""
    if cls is None or not issubclass(cls, BaseModel):
        return None
    result = cls.model_json_schema()
    properties = dict(result.get("properties", {}))
    for name, info in cls.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        widget = extra.get("input")
        if not isinstance(widget, dict) or widget.get("options") is None or name not in properties:
            continue
        options = _resolve_options(cls, widget["options"], user)
        if options is None:
            continue
        prop = dict(properties[name])
        prop["input"] = {"type": "select", **dict(prop.get("input") or {}), "options": options}
        properties[name] = prop
    if properties:
        result["properties"] = properties
    return result


def _resolve_options(cls: type, options: Any, user: Mapping[str, Any] | None) -> list | None:
    if isinstance(options, list):
        return options
    method = getattr(cls, options, None) if isinstance(options, str) and options else None
    if not callable(method):
        log.warning("options %r of %s is not a method of the class", options, cls.__name__)
        return None
    handler = Handler.of(method)
    offered = {"__user__": dict(user), "user": dict(user)} if user is not None else {}
    try:
        resolved = method(**handler.select(offered))
    except Exception as exc:  # a broken options method must not break the settings form
        log.warning("options method %s.%s failed: %s", cls.__name__, options, exc)
        return None
    return resolved if isinstance(resolved, list) else None


def parse_assignments(cls: type | None, assignments: Iterable[str], plugin_id: str) -> dict:
    """`KEY=VALUE` strings from a command line, typed by the Valves class (JSON for non-strings)."""
    fields = cls.model_fields if cls is not None and issubclass(cls, BaseModel) else {}
    values: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValvesError(
                plugin_id=plugin_id,
                message=f"expected KEY=VALUE, got {assignment!r}",
                error_type="UsageError",
                stage="valves",
            )
        if key not in fields:
            known = ", ".join(fields) or "none"
            raise ValvesError(
                plugin_id=plugin_id,
                message=f"unknown valve {key!r} (known: {known})",
                error_type="UsageError",
                stage="valves",
            )
        values[key] = raw if _is_text(fields[key].annotation) else _json_or_text(raw)
    return values


def _is_text(annotation: Any) -> bool:
    """`str`, `SecretStr`, or an Optional of one: the value is taken as typed, never as JSON."""
    if annotation in (str, SecretStr):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(args) and all(_is_text(a) for a in args)
    return False


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw
