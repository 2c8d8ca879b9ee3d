"""Merged values against the chart's values.schema.json (and each enabled subchart's own
schema against its part, as Helm does): every error, sorted by path, one finding each."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from .chart import Chart
from .findings import Report, json_path, truncate
from .values import Values

RULE = "FLW100"
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def schemas_for(chart: Chart, values: Values, override: tuple[str, dict[str, Any]] | None
                ) -> list[tuple[tuple[Any, ...], dict[str, Any], str]]:
    """(path prefix, schema, label) to validate; --schema replaces every schema of the chart."""
    if override is not None:
        return [((), override[1], override[0])]
    targets: list[tuple[tuple[Any, ...], dict[str, Any], str]] = []
    if chart.schema is not None:
        targets.append(((), chart.schema, chart.schema_file))
    _subschemas(chart, (), "", values.enabled, targets)
    return targets


def _subschemas(chart: Chart, prefix: tuple[Any, ...], key_prefix: str, enabled: dict[str, bool],
                out: list[tuple[tuple[Any, ...], dict[str, Any], str]]) -> None:
    for dep in chart.dependencies:
        key = key_prefix + dep.key
        if dep.chart is None or not enabled.get(key, True):
            continue
        if dep.chart.schema is not None:
            out.append(((*prefix, dep.key), dep.chart.schema, dep.chart.schema_file))
        _subschemas(dep.chart, (*prefix, dep.key), key + ".", enabled, out)


def check(report: Report, chart: Chart, values: Values,
          override: tuple[str, dict[str, Any]] | None = None) -> None:
    for key, message in values.problems:
        parts = tuple(key.split("."))
        report.add(RULE, json_path(parts), message, "a subchart's values are a map", values.source(parts))
    targets = schemas_for(chart, values, override)
    if not targets:
        report.notes.append("the chart has no values.schema.json: values were not checked against a schema")
        return
    import jsonschema  # noqa: PLC0415 - only this step needs it (~80 ms)
    import referencing.exceptions  # noqa: PLC0415

    subcharts = {d.key for d in chart.dependencies}
    collected: dict[tuple[str, str], tuple[tuple[Any, ...], str, str]] = {}
    for prefix, schema, label in targets:
        instance: Any = values.values
        for part in prefix:
            instance = instance.get(part) if isinstance(instance, dict) else None
        # No check_schema(): validating a chart schema against its metaschema costs ~10x the
        # validation itself; a broken schema shows up as an exception while validating.
        try:
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
            validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
            errors = list(validator.iter_errors(instance))
        except (jsonschema.exceptions.SchemaError, referencing.exceptions.Unresolvable, LookupError,
                TypeError, ValueError, AttributeError, RecursionError) as exc:
            report.add("FLW011", "", f"the schema is broken: {_first_line(exc)}",
                       "fix the chart's values.schema.json", label)
            continue
        for error in errors:
            for parts, message, hint in describe(error):
                full = (*prefix, *parts)
                if len(full) >= 2 and full[0] in subcharts and full[1] == "global":
                    full = full[1:]  # Helm copies global into every subchart: report it where it is set
                if not hint and _set_to_null(values.user, full):
                    hint = NULL_HINT
                collected.setdefault((json_path(full), message), (full, message, hint))
    for path, message in sorted(collected, key=lambda k: (_order(collected[k][0]), k[1])):
        parts, _, hint = collected[(path, message)]
        report.add(RULE, path, message, hint, values.source(parts))


NULL_HINT = "a null deletes the chart's default, and the chart needs this key: leave it out or give it a value"


def _set_to_null(user: Any, parts: tuple[Any, ...]) -> bool:
    """Whether the user's values hold a null at ``parts`` (which removed a default there)."""
    node = user
    for part in parts[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return False
        node = node[part]
    return isinstance(node, dict) and parts[-1] in node and node[parts[-1]] is None


def _order(parts: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in parts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def describe(error: Any) -> list[tuple[tuple[Any, ...], str, str]]:
    """(path parts, message, hint) for one jsonschema error; unknown/missing keys get their own path."""
    parts = tuple(error.absolute_path)
    kind = error.validator
    value = error.validator_value
    instance = error.instance
    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        extras = _extra_keys(error)
        allowed = sorted(error.schema.get("properties", {}) or {})
        out = []
        for key in extras:
            hint = _did_you_mean(key, allowed) or (
                f"allowed keys: {', '.join(allowed[:12])}{', ...' if len(allowed) > 12 else ''}" if allowed else
                "this mapping takes no keys")
            out.append(((*parts, key), f"unknown key {key!r}", hint))
        if out:
            return out
    if kind == "required" and isinstance(instance, dict) and isinstance(value, list):
        missing = [k for k in value if k not in instance]
        return [((*parts, k), f"required key {k!r} is missing", "") for k in missing] or [
            (parts, error.message, "")]
    if kind == "propertyNames":
        return [((*parts, str(instance)), f"invalid key {truncate(instance)}: {error.message}", "")]
    if kind in ("oneOf", "anyOf") and error.context:
        import jsonschema  # noqa: PLC0415

        best = jsonschema.exceptions.best_match(error.context)
        if best is not None and tuple(best.absolute_path) != parts:
            return describe(best)
        options = sorted({_expected(e) for e in error.context if tuple(e.absolute_path) == parts})
        return [(parts, f"got {truncate(instance)}; expected {' or '.join(options) or 'one of the allowed forms'}",
                 "")]
    return [(parts, f"got {truncate(instance)}; expected {_expected(error)}", _hint(error))]


def _extra_keys(error: Any) -> list[str]:
    schema = error.schema
    instance = error.instance
    if error.validator == "additionalProperties":
        properties = schema.get("properties", {}) or {}
        patterns = [re.compile(p) for p in (schema.get("patternProperties", {}) or {})]
        return [k for k in instance if k not in properties and not any(p.search(k) for p in patterns)]
    names = [m.replace("\\'", "'") for m in _QUOTED.findall(error.message)]
    return [n for n in names if n in instance] or []


def _expected(error: Any) -> str:
    kind = error.validator
    value = error.validator_value
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        return " or ".join(types)
    if kind == "enum":
        return "one of " + ", ".join(json.dumps(v) for v in value)
    if kind == "const":
        return json.dumps(value)
    if kind == "pattern":
        return f"a string matching {value}"
    if kind == "format":
        return f"format {value}"
    labels = {
        "minLength": "at least {} characters", "maxLength": "at most {} characters",
        "minimum": "a number >= {}", "maximum": "a number <= {}",
        "exclusiveMinimum": "a number > {}", "exclusiveMaximum": "a number < {}",
        "minItems": "at least {} items", "maxItems": "at most {} items",
        "minProperties": "at least {} keys", "maxProperties": "at most {} keys",
        "multipleOf": "a multiple of {}",
    }
    if kind in labels:
        return labels[kind].format(value)
    if kind == "uniqueItems":
        return "unique items"
    if kind == "not":
        return "a value the schema does not forbid"
    message = error.message
    return message if len(message) <= 160 else message[:157] + "..."


def _hint(error: Any) -> str:
    instance = error.instance
    if error.validator == "enum" and isinstance(instance, str):
        return _did_you_mean(instance, [v for v in error.validator_value if isinstance(v, str)])
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        if "string" in wanted and isinstance(instance, (bool, int, float)):
            return 'quote it (YAML reads true/false, y/n, on/off and numbers as non-strings), e.g. "true"'
        if isinstance(instance, str) and ({"integer", "number"} & set(wanted) and instance.strip().lstrip("-")
                                          .replace(".", "", 1).isdigit()):
            return "remove the quotes (or use --set instead of --set-string)"
        if isinstance(instance, str) and "boolean" in wanted and instance.lower() in ("true", "false"):
            return "remove the quotes"
    return ""


def _did_you_mean(word: str, choices: list[str]) -> str:
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return f"did you mean {lowered[word.lower()]!r}? (keys and values are case-sensitive)"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return f"did you mean {close[0]!r}?" if close else ""
