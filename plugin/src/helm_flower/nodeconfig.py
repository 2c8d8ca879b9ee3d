"""The SuperNode's node-config as the chart renders it, and as Flower 1.41 parses it back.

Chart (hubAddon.nodeConfig template): keys sorted, ``cluster-name`` always set to the
``{{CLUSTER_NAME}}`` placeholder, strings JSON-quoted (Go's json, HTML-escaping <, >, &),
integral numbers as integers, other values with Go's ``%v``; pairs joined by spaces; the whole
string JSON-escaped into the AddOnDeploymentConfig variable NODE_CONFIG (OCM substitutes it
into the manifests' raw JSON, which unescapes it again).

Flower (flwr.common.config.parse_config_args): pairs found with the regular expression below,
re-joined as TOML lines and parsed with tomli, nested tables flattened with dots.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

CLUSTER_NAME_KEY = "cluster-name"
CLUSTER_NAME_PLACEHOLDER = "{{CLUSTER_NAME}}"
_FLOWER_PAIR = re.compile(r"(\S+?)=(\'[^\']*\'|\"[^\"]*\"|\S+)")


def go_json_string(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    return (out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def go_float(value: float) -> str:
    """Go's fmt %v of a float64: shortest digits, %e when the exponent is < -4 or >= 6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    count = len(digits)
    point = count + int(exponent)
    neg = "-" if sign else ""
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if count > 1 else "")
        return f"{neg}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{digits}"
    if point >= count:
        return f"{neg}{digits}{'0' * (point - count)}"
    return f"{neg}{digits[:point]}.{digits[point:]}"


def go_value(value: Any) -> str:
    """Go's %v of a decoded JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def with_cluster_name(config: dict[str, Any]) -> dict[str, Any]:
    merged = dict(config)
    merged[CLUSTER_NAME_KEY] = CLUSTER_NAME_PLACEHOLDER
    return merged


def pair(key: str, value: Any) -> str:
    if isinstance(value, str):
        text = go_json_string(value)
    elif isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        text = str(int(value))
    else:
        text = go_value(value)
    return f"{key}={text}"


def render(config: dict[str, Any]) -> tuple[str, str]:
    """(argument string the SuperNode gets, NODE_CONFIG value stored in the ADC)."""
    merged = with_cluster_name(config)
    plain = " ".join(pair(k, merged[k]) for k in sorted(merged))
    return plain, go_json_string(plain)[1:-1]


def flower_parse(argument: str) -> dict[str, Any]:
    """What flwr 1.41 makes of --node-config ARGUMENT; raises ValueError like the SuperNode."""
    import tomllib

    matches = _FLOWER_PAIR.findall(argument)
    toml_text = "\n".join(f"{k} = {v}" for k, v in matches)
    try:
        parsed = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(str(exc)) from None
    return _flatten(parsed)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def expected(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def problems(config: dict[str, Any]) -> dict[str, str]:
    """Keys of ``config`` the SuperNode would not get back as given -> why."""
    found: dict[str, str] = {}
    for key in sorted(config):
        value = config[key]
        if key == CLUSTER_NAME_KEY:
            found[key] = "is set by the chart to the managed cluster's name; use another key"
            continue
        if value is None or isinstance(value, (list, dict)):
            kind = "null" if value is None else ("a list" if isinstance(value, list) else "a map")
            found[key] = f"is {kind}; node-config values are TOML scalars (string, integer, float, boolean)"
            continue
        single = pair(key, value)
        try:
            parsed = flower_parse(single)
        except ValueError:
            found[key] = f"renders as {single!r}, which Flower cannot parse (the SuperNode exits)"
            continue
        want = expected(value)
        if list(parsed) != [key]:
            found[key] = (f"renders as {single!r}; Flower reads it as key(s) {', '.join(parsed) or 'none'}: "
                          "keys are TOML bare keys (A-Z a-z 0-9 _ -, dots nest)")
        elif parsed[key] != want or type(parsed[key]) is not type(want):
            found[key] = (f"renders as {single!r}; Flower reads the value as {parsed[key]!r} "
                          f"instead of {want!r}")
    if not found:
        plain, _ = render(config)
        try:
            parsed = flower_parse(plain)
        except ValueError as exc:
            found[""] = f"the whole node-config does not parse in Flower: {exc}"
        else:
            clash = sorted(set(parsed) ^ (set(config) | {CLUSTER_NAME_KEY}))
            if clash:
                found[""] = f"keys clash when Flower reads them back: {', '.join(clash)}"
    return found
