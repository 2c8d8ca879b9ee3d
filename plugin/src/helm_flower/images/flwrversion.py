"""Does an app's ``flwr`` requirement fit the federation's Flower version?

A SuperExec is refused by a SuperLink of another major.minor (Flower 1.41 measured: exit 606).
The app's image carries the flwr its requirement resolves to, so the requirement must

* admit the chart's version (``global.flower.version``), and
* pin its major.minor: every version it admits has the same major.minor, so that no rebuild
  can silently pull another minor (``flwr==1.41.0``, ``flwr~=1.41.0``, ``flwr==1.41.*`` and
  ``flwr>=1.41,<1.42`` pin; ``flwr>=1.41`` and ``flwr~=1.41`` do not).

The admitted set of a PEP 440 specifier set is an interval (minus ``!=`` holes), so its bounds
decide the second rule exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.specifiers import Specifier
from packaging.version import InvalidVersion, Version

from .app import FlowerApp


@dataclass(frozen=True)
class _Bound:
    version: Version
    inclusive: bool


def major_minor(version: Version) -> tuple[int, int]:
    release = (*version.release, 0)
    return release[0], release[1]


def _bump(release: tuple[int, ...]) -> Version:
    """The first version after every version starting with ``release`` (1.41 -> 1.42)."""
    head = list(release)
    head[-1] += 1
    return Version(".".join(str(p) for p in head) + ".dev0")


def _bounds(spec: Specifier) -> tuple[_Bound | None, _Bound | None]:
    op, text = spec.operator, spec.version
    if op == "==" and text.endswith(".*"):
        prefix = Version(text[:-2])
        return _Bound(Version(text[:-2] + ".dev0"), True), _Bound(_bump(prefix.release), False)
    if op == "===":
        try:
            v = Version(text)
        except InvalidVersion:
            return None, None
        return _Bound(v, True), _Bound(v, True)
    v = Version(text)
    if op == "==":
        return _Bound(v, True), _Bound(v, True)
    if op == "~=":
        return _Bound(v, True), _Bound(_bump(v.release[:-1]), False)
    if op == ">=":
        return _Bound(v, True), None
    if op == ">":
        return _Bound(v, False), None
    if op == "<=":
        return None, _Bound(v, True)
    if op == "<":
        # "<V" excludes V's pre-releases too (unless V is one): "<1.42" ends at 1.42.dev0.
        plain = v.pre is None and v.dev is None and v.post is None and v.local is None
        end = Version(f"{v.base_version}.dev0") if plain else v
        return None, _Bound(end, False)
    return None, None  # "!=" leaves holes, not bounds


def pins_major_minor(requirement: Requirement, target: Version) -> bool:
    """True when every version the requirement admits has ``target``'s major.minor."""
    lower: _Bound | None = None
    upper: _Bound | None = None
    for spec in requirement.specifier:
        lo, hi = _bounds(spec)
        if lo is not None and (lower is None or lo.version > lower.version
                               or (lo.version == lower.version and not lo.inclusive)):
            lower = lo
        if hi is not None and (upper is None or hi.version < upper.version
                               or (hi.version == upper.version and not hi.inclusive)):
            upper = hi
    if lower is None or upper is None:
        return False
    mm = major_minor(target)
    floor = Version(f"{mm[0]}.{mm[1]}.dev0")
    ceiling = Version(f"{mm[0]}.{mm[1] + 1}.dev0")
    if lower.version < floor:
        return False
    if upper.inclusive:
        return upper.version < ceiling
    return upper.version <= ceiling


def check_flwr(app: FlowerApp, chart_version: str, chart_label: str) -> list[str]:
    """Problems (exit 1) of the app's flwr requirement against the chart's Flower version."""
    target = Version(chart_version)
    mm = "%d.%d" % major_minor(target)
    pin = f"flwr=={chart_version}"
    fix = (f"require {pin} (or flwr>={chart_version},<{major_minor(target)[0]}.{major_minor(target)[1] + 1}) "
           f"in [project] dependencies of {app.pyproject}, or deploy with a chart whose "
           f"global.flower.version matches the app")
    why = f"A SuperExec must run the SuperLink's major.minor ({mm}): the SuperLink refuses any other"
    requirements = app.flwr_requirements()
    if not requirements:
        return [f"{app.pyproject}: [project] dependencies: no flwr requirement, so the app's Flower version "
                f"is unknown (global.flower.version is {chart_version}, {chart_label}). {why}.\n"
                f"  fix: add \"{pin}\" to [project] dependencies"]
    problems: list[str] = []
    for req in requirements:
        if not req.specifier.contains(target, prereleases=True):
            problems.append(
                f"{app.pyproject}: [project] dependencies: {str(req)!r} does not admit Flower {chart_version}, "
                f"the chart's global.flower.version ({chart_label}). {why}.\n"
                f"  fix: {fix}")
        elif not pins_major_minor(req, target):
            problems.append(
                f"{app.pyproject}: [project] dependencies: {str(req)!r} admits Flower {chart_version} "
                f"(global.flower.version of {chart_label}) but also other major.minor versions than {mm}: "
                f"a rebuild could install another Flower minor. {why}.\n"
                f"  fix: {fix}")
    return problems
