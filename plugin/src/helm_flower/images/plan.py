"""From apps, flags and the chart to the images the values must name.

One :class:`Entry` per app and per variant (``clientApp.apps`` item ``<app>`` or
``<app>-<variant>``); the ServerApp runs the base (non-variant) image of the first app, or of
``--serverapp APP``.

Image name: ``<registry host>/[<registry path>/]<publisher>/<app>[-<variant>]:<tag>``. The
publisher (``[tool.flwr.app] publisher``) is the namespace, as on Flower's app hub, so two
publishers' apps of the same name never share a repository; a variant is its own repository
(not a tag suffix), so every repository holds one kind of image and the tags stay the app's
versions. ``registry`` in the values is the host alone, so ``global.imageRegistry`` (a mirror)
replaces just the host.

Placements: ``--placement-map APP[:VARIANT]=P[,P...]``. An entry without a mapping gets every
placement of the chart that no other entry of the same app claims, so a GPU variant mapped to
``gpu`` and the base image never run side by side on one cluster.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..rules import FLOWER_VERSION_LABEL
from . import containerfile as cf
from . import gitinfo, naming
from .app import FlowerApp
from .context import ChartContext
from .errors import EXIT_FINDINGS, ImagesError
from .flwrversion import check_flwr

LABEL_APP_NAME = "flower.ai/app-name"
LABEL_APP_VERSION = "flower.ai/app-version"
LABEL_APP_PUBLISHER = "flower.ai/app-publisher"
LABEL_VARIANT = "flower.ai/variant"
# Every label key this command owns (written or removed); other appLabels are the user's.
OWNED_LABELS = (LABEL_APP_NAME, LABEL_APP_PUBLISHER, LABEL_APP_VERSION, FLOWER_VERSION_LABEL, LABEL_VARIANT)
# Keys of an image mapping this command owns (pullPolicy and anything else stay the user's).
OWNED_IMAGE_KEYS = ("registry", "repository", "tag", "digest")

TAG_SOURCES = ("version", "git", "digest")
DEFAULT_REGISTRY = "docker.io"
DEFAULT_PLATFORM = "linux/amd64"
_VARIANT = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass
class Options:
    registry: str = DEFAULT_REGISTRY
    tag_from: str = "version"
    digests: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    placement_maps: list[str] = field(default_factory=list)
    serverapp: str | None = None
    platform: str = DEFAULT_PLATFORM
    generate_containerfiles: bool = False


@dataclass
class Entry:
    app: FlowerApp
    app_key: str
    variant: str | None
    name: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None
    placements: list[str]
    labels: dict[str, str]
    flower_version: str  # of its SuperExec base image (flower.ai/flower-version)
    base_image: str  # FROM of the generated Containerfile
    output_containerfile: str  # where --containerfile writes it

    @property
    def reference(self) -> str:
        ref = f"{self.registry}/{self.repository}"
        if self.digest:
            return f"{ref}@{self.digest}"
        return f"{ref}:{self.tag}"

    def image_values(self) -> dict[str, str]:
        image = {"registry": self.registry, "repository": self.repository}
        if self.tag is not None:
            image["tag"] = self.tag
        if self.digest:
            image["digest"] = self.digest
        return image


@dataclass
class Plan:
    entries: list[Entry]
    server: Entry
    warnings: list[str] = field(default_factory=list)

    def fragment(self) -> dict:
        """The values this command owns, as plain data."""
        return {
            "superlink": {"serverApp": {"image": self.server.image_values(),
                                        "appLabels": _server_labels(self.server)}},
            "clientApp": {"apps": [{"name": e.name, "image": e.image_values(), "placements": list(e.placements),
                                    "appLabels": dict(e.labels)} for e in self.entries]},
        }


def _server_labels(entry: Entry) -> dict[str, str]:
    return {k: v for k, v in entry.labels.items() if k != LABEL_VARIANT}


def _split(flag: str, text: str, what: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key.strip() or not value.strip():
        raise ImagesError(f"{flag} {text!r}: expected {what}")
    return key.strip(), value.strip()


class _Apps:
    """Finds an app by its key (DNS form of [project] name) or its [project] name."""

    def __init__(self, apps: list[FlowerApp]) -> None:
        self.apps: dict[str, FlowerApp] = {}
        for app in apps:
            key = naming.dns_label(app.name)
            if not key:
                raise ImagesError(f"{app.pyproject}: [project] name {app.name!r} has no letter or digit to name "
                                  "the image and the clientApp.apps entry after")
            if key in self.apps:
                other = self.apps[key]
                raise ImagesError(f"{app.pyproject}: app {app.name!r} has the same name as {other.pyproject}; "
                                  "every app needs its own name (it names the image and the clientApp.apps entry)")
            self.apps[key] = app

    def resolve(self, text: str, flag: str) -> str:
        for key, app in self.apps.items():
            if text in (key, app.name, app.distribution):
                return key
        known = ", ".join(sorted(self.apps))
        raise ImagesError(f"{flag}: no app named {text!r} among the APP_DIRs (apps: {known})")

    def only(self, flag: str, text: str) -> str:
        if len(self.apps) != 1:
            raise ImagesError(f"{flag} {text!r}: several apps are given; prefix the app, e.g. "
                              f"{flag} {next(iter(self.apps))}:{text}")
        return next(iter(self.apps))


def _app_variant(apps: _Apps, flag: str, key: str, variants: dict[str, dict[str, str]]) -> tuple[str, str | None]:
    """``APP`` or ``APP:VARIANT`` -> (app key, variant or None), both known."""
    app_text, colon, variant = key.partition(":")
    app_key = apps.resolve(app_text.strip(), flag)
    variant = variant.strip() if colon else ""
    if not variant:
        return app_key, None
    if variant not in variants.get(app_key, {}):
        known = ", ".join(sorted(variants.get(app_key, {}))) or "none"
        raise ImagesError(f"{flag} {key!r}: app {app_key!r} has no variant {variant!r} "
                          f"(variants from --variant: {known})")
    return app_key, variant


def _parse_variants(apps: _Apps, texts: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for text in texts:
        key, path = _split("--variant", text, "[APP:]NAME=CONTAINERFILE")
        app_text, colon, name = key.rpartition(":")
        app_key = apps.resolve(app_text.strip(), "--variant") if colon else apps.only("--variant", text)
        name = name.strip()
        if not _VARIANT.match(name) or len(name) > 40:
            raise ImagesError(f"--variant {text!r}: variant name {name!r} must be a DNS label (lower case letters, "
                              "digits, '-') of at most 40 characters: it names the image and the entry")
        if name in out.get(app_key, {}):
            raise ImagesError(f"--variant {text!r}: app {app_key!r} already has a variant {name!r}")
        app = apps.apps[app_key]
        candidates = [path] if os.path.isabs(path) else [path, os.path.join(app.directory, path)]
        found = next((c for c in candidates if os.path.isfile(c)), None)
        if found is None:
            raise ImagesError(f"--variant {text!r}: Containerfile {path!r} not found (looked in "
                              f"{' and '.join(repr(c) for c in candidates)})")
        out.setdefault(app_key, {})[name] = os.path.normpath(found)
    return out


def _parse_digests(apps: _Apps, texts: list[str], variants: dict[str, dict[str, str]]
                   ) -> dict[tuple[str, str | None], str]:
    out: dict[tuple[str, str | None], str] = {}
    for text in texts:
        key, digest = _split("--digest", text, "APP[:VARIANT]=sha256:<64 hex digits>")
        target = _app_variant(apps, "--digest", key, variants)
        naming.check_digest(digest, f"--digest {text!r}")
        if target in out and out[target] != digest:
            raise ImagesError(f"--digest {text!r}: {key} already has digest {out[target]}")
        out[target] = digest
    return out


def _parse_placements(apps: _Apps, texts: list[str], variants: dict[str, dict[str, str]],
                      ctx: ChartContext) -> dict[tuple[str, str | None], list[str]]:
    out: dict[tuple[str, str | None], list[str]] = {}
    for text in texts:
        key, value = _split("--placement-map", text, "APP[:VARIANT]=PLACEMENT[,PLACEMENT...]")
        target = _app_variant(apps, "--placement-map", key, variants)
        if ctx.install_strategy != "Placements":
            raise ImagesError(f"--placement-map {text!r}: hubAddon.installStrategy is {ctx.install_strategy} "
                              f"({ctx.placements_source}); ClientApps then go to every cluster with a SuperNode "
                              "and take no placements")
        for placement in (p.strip() for p in value.split(",")):
            if not placement:
                continue
            if placement not in ctx.placements:
                known = ", ".join(ctx.placements) or "none"
                raise ImagesError(f"--placement-map {text!r}: {placement!r} is not a SuperNode placement "
                                  f"(hubAddon.placements names from {ctx.placements_source}: {known})")
            targets = out.setdefault(target, [])
            if placement not in targets:
                targets.append(placement)
    return out


def _assign_placements(app_key: str, names: list[str | None], mapped: dict[tuple[str, str | None], list[str]],
                       ctx: ChartContext) -> dict[str | None, list[str]]:
    if ctx.install_strategy != "Placements":
        if len(names) > 1:
            raise ImagesError(f"app {app_key!r} has variants, but hubAddon.installStrategy is "
                              f"{ctx.install_strategy} ({ctx.placements_source}): every ClientApp goes to every "
                              "cluster, so the variants would run side by side; use installStrategy Placements")
        return {name: [] for name in names}
    owner: dict[str, str | None] = {}
    result: dict[str | None, list[str]] = {}
    for variant in names:
        for placement in mapped.get((app_key, variant), []):
            if placement in owner:
                first = app_key if owner[placement] is None else f"{app_key}:{owner[placement]}"
                this = app_key if variant is None else f"{app_key}:{variant}"
                raise ImagesError(f"--placement-map: placement {placement!r} is mapped to both {first} and {this}; "
                                  "two images of one app on the same clusters would take each other's tasks")
            owner[placement] = variant
        if (app_key, variant) in mapped:
            result[variant] = list(mapped[(app_key, variant)])
    rest = [p for p in ctx.placements if p not in owner]
    for variant in names:
        if variant in result:
            continue
        if ctx.placements and not rest:
            this = app_key if variant is None else f"{app_key}:{variant}"
            raise ImagesError(f"--placement-map: every placement ({', '.join(ctx.placements)}) is mapped to another "
                              f"image of app {app_key!r}, none is left for {this}; map it too "
                              f"(--placement-map {this}=PLACEMENT)")
        result[variant] = list(rest)
    return result


def _checked_base(path: str, ctx: ChartContext, chart_label: str, findings: list[str], *,
                  required: bool) -> cf.SuperexecBase | None:
    """The SuperExec base of a Containerfile; a Flower version mismatch becomes a finding (exit 1)."""
    try:
        return cf.superexec_base(cf.final_base(path), path, ctx.flower_version, chart_label, required=required)
    except ImagesError as exc:
        if exc.exit_code != EXIT_FINDINGS:
            raise
        findings += exc.messages
        return None


def build_plan(apps_in: list[FlowerApp], ctx: ChartContext, opts: Options) -> Plan:
    if opts.tag_from not in TAG_SOURCES:
        raise ImagesError(f"--tag-from {opts.tag_from!r}: use one of {', '.join(TAG_SOURCES)}")
    apps = _Apps(apps_in)
    variants = _parse_variants(apps, opts.variants)
    digests = _parse_digests(apps, opts.digests, variants)
    mapped = _parse_placements(apps, opts.placement_maps, variants, ctx)
    host, prefix = naming.split_registry(opts.registry)
    server_key = apps.resolve(opts.serverapp, "--serverapp") if opts.serverapp else next(iter(apps.apps))

    warnings: list[str] = []
    findings: list[str] = []
    chart_label = f"{ctx.version_source}"
    for app in apps.apps.values():
        findings += check_flwr(app, ctx.flower_version, chart_label)

    entries: list[Entry] = []
    missing_digests: list[str] = []
    for app_key, app in apps.apps.items():
        names: list[str | None] = [None, *variants.get(app_key, {})]
        placements = _assign_placements(app_key, names, mapped, ctx)
        tag: str | None
        if opts.tag_from == "version":
            if app.version is None:
                raise ImagesError(f"{app.pyproject}: [project] version is dynamic, so --tag-from version has no "
                                  "tag\n  hint: use --tag-from git or --tag-from digest (with --digest)")
            tag = naming.image_tag(app.version, f"{app.pyproject}: [project] version")
        elif opts.tag_from == "git":
            tag = gitinfo.short_commit(app.directory)
        else:
            tag = None
        publisher = naming.path_component(app.publisher)
        app_component = naming.path_component(app.name)
        if not publisher or not app_component:
            raise ImagesError(f"{app.pyproject}: [tool.flwr.app] publisher {app.publisher!r} / [project] name "
                              f"{app.name!r} cannot name an image repository")
        for variant in names:
            where = app.pyproject
            flower_version, base_image = ctx.flower_version, f"{cf.OFFICIAL_SUPEREXEC}:{ctx.flower_version}"
            if variant is None:
                out_path = os.path.join(app.directory, "Containerfile")
                # The app's own Containerfile, unless --containerfile is about to replace it.
                own = None if opts.generate_containerfiles else cf.existing_containerfile(app.directory)
                base = _checked_base(own, ctx, chart_label, findings, required=False) if own else None
                if own and base is None and not findings:
                    warnings.append(f"{own}: its base image is not a Flower SuperExec image, so its Flower "
                                    "version cannot be checked (the flwr requirement was)")
            else:
                out_path = os.path.join(app.directory, f"Containerfile.{variant}")
                base = _checked_base(variants[app_key][variant], ctx, chart_label, findings, required=True)
                if base is not None:
                    base_image = base.reference
            if base is not None:
                flower_version = base.version
            name = naming.entry_name(naming.dns_label(app.name), variant, where)
            digest = digests.get((app_key, variant))
            if opts.tag_from == "digest" and not digest:
                missing_digests.append(app_key if variant is None else f"{app_key}:{variant}")
            repo_name = app_component if variant is None else f"{app_component}-{variant}"
            repository = "/".join(p for p in (prefix, publisher, repo_name) if p)
            labels = {
                LABEL_APP_NAME: naming.label_value(app.name),
                LABEL_APP_PUBLISHER: naming.label_value(app.publisher),
                FLOWER_VERSION_LABEL: naming.label_value(flower_version),
            }
            if app.version is not None:
                labels[LABEL_APP_VERSION] = naming.label_value(app.version)
            if variant is not None:
                labels[LABEL_VARIANT] = naming.label_value(variant)
            entries.append(Entry(
                app=app, app_key=app_key, variant=variant, name=name, registry=host, repository=repository,
                tag=tag, digest=digest, placements=placements[variant],
                labels={k: labels[k] for k in sorted(labels) if labels[k]},
                flower_version=flower_version, base_image=base_image, output_containerfile=out_path,
            ))
    if findings:
        raise ImagesError(findings, EXIT_FINDINGS)
    if missing_digests:
        raise ImagesError(f"--tag-from digest: no --digest for {', '.join(missing_digests)}\n"
                          "  hint: push the images first (`helm flower images --containerfile` prints how) and pass "
                          "--digest APP[:VARIANT]=sha256:... for each")
    shared: dict[str, list[str]] = {}
    for e in entries:
        for p in e.placements:
            shared.setdefault(p, []).append(e.name)
    for placement, names_on in shared.items():
        apps_on = {e.app_key for e in entries if e.name in names_on}
        if len(apps_on) > 1:
            warnings.append(f"placement {placement!r} gets the ClientApps of several apps ({', '.join(names_on)}): "
                            "each SuperExec may pick any run's task, so every image must carry every app's "
                            "dependencies (or use --placement-map to keep them apart)")
    server = next(e for e in entries if e.app_key == server_key and e.variant is None)
    return Plan(entries=entries, server=server, warnings=warnings)
