"""Kubernetes' own syntax rules (k8s.io/apimachinery): resource quantities, label keys and
values, label selectors, DNS names. Pure functions returning an error text or None."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

# resource.Quantity: <signedNumber><suffix>, suffix binarySI | decimalSI | decimalExponent.
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"m": Decimal("1e-3"), "": Decimal(1), "k": Decimal("1e3"), "M": Decimal("1e6"),
            "G": Decimal("1e9"), "T": Decimal("1e12"), "P": Decimal("1e15"), "E": Decimal("1e18")}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

LABEL_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage", "storage")


def parse_quantity(value: Any) -> Decimal | None:
    """The quantity's value, or None when Kubernetes would reject it."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if not match:
        return None
    try:
        number = Decimal(match.group("number"))
        suffix = match.group("suffix") or ""
        if suffix in _BINARY:
            return number * _BINARY[suffix]
        if suffix in _DECIMAL:
            return number * _DECIMAL[suffix]
        exponent = int(suffix[1:])
        if abs(exponent) > 1000:
            return None
        return number.scaleb(exponent)
    except (InvalidOperation, ValueError, OverflowError):
        return None


def quantity_error(value: Any) -> str | None:
    if parse_quantity(value) is None:
        return (f"{_show(value)} is not a Kubernetes quantity "
                "(a number with an optional suffix: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or e<n>)")
    return None


def resource_name_error(name: str) -> str | None:
    if name in STANDARD_RESOURCES or name.startswith("hugepages-"):
        return None
    if "/" in name:
        return qualified_name_error(name)
    return (f"{name!r} is not a standard resource (cpu, memory, ephemeral-storage, hugepages-<size>) "
            "nor a fully qualified extended resource such as nvidia.com/gpu")


def qualified_name_error(key: Any) -> str | None:
    """Label / annotation key: [prefix/]name, prefix a DNS subdomain <= 253, name <= 63."""
    if not isinstance(key, str) or not key:
        return f"{_show(key)} is not a valid key: it must be a non-empty string"
    prefix, sep, name = key.rpartition("/")
    if sep:
        if not prefix:
            return f"{key!r}: the prefix before '/' must not be empty"
        if len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix):
            return f"{key!r}: prefix {prefix!r} must be a lowercase DNS subdomain (at most 253 characters)"
    if len(name) > 63:
        return f"{key!r}: the name part has {len(name)} characters, at most 63 are allowed"
    if not _QUALIFIED_NAME.match(name):
        return (f"{key!r}: the name part must consist of alphanumerics, '-', '_' or '.', "
                "and start and end with an alphanumeric")
    return None


def label_value_error(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"{_show(value)} is not a string (quote it: label values are strings)"
    if len(value) > 63:
        return f"label value has {len(value)} characters, at most 63 are allowed"
    if not _LABEL_VALUE.match(value):
        return (f"{value!r} is not a valid label value (alphanumerics, '-', '_' or '.', "
                "starting and ending with an alphanumeric, or empty)")
    return None


def expression_error(expression: Any, operators: tuple[str, ...] = LABEL_OPERATORS,
                     check_values: bool = True) -> list[tuple[str, str]]:
    """Problems of one matchExpressions item as (sub-path key, message)."""
    if not isinstance(expression, dict):
        return [("", "a match expression must be a mapping with key, operator and values")]
    problems: list[tuple[str, str]] = []
    key = expression.get("key")
    error = qualified_name_error(key)
    if error:
        problems.append(("key", error))
    operator = expression.get("operator")
    values = expression.get("values")
    if operator not in operators:
        problems.append(("operator", f"{_show(operator)} is not an operator: use one of {', '.join(operators)}"))
        return problems
    if values is not None and not isinstance(values, list):
        problems.append(("values", "values must be a list"))
        return problems
    values = values or []
    if operator in ("In", "NotIn") and not values:
        problems.append(("values", f"operator {operator} needs at least one value"))
    if operator in ("Exists", "DoesNotExist") and values:
        problems.append(("values", f"operator {operator} must not have values"))
    if operator in ("Gt", "Lt"):
        if len(values) != 1:
            problems.append(("values", f"operator {operator} needs exactly one value"))
        elif not (isinstance(values[0], str) and re.fullmatch(r"-?[0-9]+", values[0])):
            problems.append(("values", f"operator {operator} needs an integer value (as a string)"))
        return problems
    if check_values:
        for index, value in enumerate(values):
            error = label_value_error(value)
            if error:
                problems.append((f"values[{index}]", error))
    return problems


def dns_label_error(name: Any, what: str = "name") -> str | None:
    if not isinstance(name, str) or not name:
        return f"{what} must be a non-empty string"
    if len(name) > 63:
        return f"{what} {name!r} has {len(name)} characters, at most 63 are allowed"
    if not _DNS_LABEL.match(name):
        return (f"{what} {name!r} must be a DNS-1123 label: lowercase alphanumerics and '-', "
                "starting and ending with an alphanumeric")
    return None


def dns_1035_error(name: str, what: str = "name") -> str | None:
    error = dns_label_error(name, what)
    if error:
        return error
    if not _DNS_1035.match(name):
        return f"{what} {name!r} must start with a letter (DNS-1035 label, required for Services)"
    return None


def dns_subdomain_error(name: Any, what: str = "name") -> str | None:
    if not isinstance(name, str) or not name:
        return f"{what} must be a non-empty string"
    if len(name) > 253:
        return f"{what} has {len(name)} characters, at most 253 are allowed"
    if not _DNS_SUBDOMAIN.match(name):
        return (f"{what} {name!r} must be a DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', "
                "starting and ending with an alphanumeric")
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
