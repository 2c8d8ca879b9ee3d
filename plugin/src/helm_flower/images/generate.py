"""Everything ``helm flower images`` computes, before anything is written.

:func:`generate` reads the chart, the values file to merge into and the apps, plans the images,
checks the fragment against the chart's schema and renders every output (values text,
Containerfiles, build commands). Nothing is written here: the command writes the results only
when all of them were computed, so an error never leaves a half-done set of files.
"""

from __future__ import annotations

import difflib
import os
import shlex
from dataclasses import dataclass, field

from .. import safeyaml
from ..chart import find_default_chart, load_chart
from ..safeyaml import InputProblem
from . import containerfile as cf
from . import gitinfo, valuesdoc
from .app import read_app
from .context import load_context, schema_errors
from .errors import EXIT_USAGE, ImagesError
from .plan import Options, Plan, build_plan


@dataclass
class Request:
    app_dirs: list[str]
    chart: str | None = None
    output: str | None = None  # -o FILE (merged into); None = stdout
    values_files: list[str] = field(default_factory=list)  # -f: read for placements / version only
    set_values: list[str] = field(default_factory=list)  # --set, likewise
    set_strings: list[str] = field(default_factory=list)  # --set-string, likewise
    options: Options = field(default_factory=Options)
    containerfile: bool = False
    force: bool = False


@dataclass
class Output:
    path: str | None
    old: str
    new: str
    existed: bool

    @property
    def changed(self) -> bool:
        return self.old != self.new or not self.existed

    def diff(self) -> str:
        label = self.path or "values"
        lines = difflib.unified_diff(self.old.splitlines(keepends=True), self.new.splitlines(keepends=True),
                                     fromfile=f"{label} (current)", tofile=f"{label} (generated)")
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                       for line in lines)
        if not self.existed:
            text = f"{label}: does not exist\n" + text
        return text


@dataclass
class Result:
    plan: Plan
    values: Output
    containerfiles: list[Output]
    commands: str
    warnings: list[str]
    refused: list[str] = field(default_factory=list)  # hand-written Containerfiles that --force would replace

    def refusal(self) -> ImagesError:
        return ImagesError([f"{p}: exists and was not written by `helm flower images`; not replacing it"
                            for p in self.refused]
                           + ["  hint: move it away (a variant's base Containerfile can live under another name, "
                              "e.g. gpu.Containerfile), or pass --force to replace it"], EXIT_USAGE)


def _problem(problem: InputProblem) -> ImagesError:
    text = str(problem)
    if problem.hint:
        text += f"\n  hint: {problem.hint}"
    return ImagesError(text, EXIT_USAGE)


def generate(request: Request) -> Result:
    if not request.app_dirs:
        raise ImagesError("no APP_DIR given: pass the directory of at least one Flower app")
    seen: set[str] = set()
    for d in request.app_dirs:
        real = os.path.realpath(d)
        if real in seen:
            raise ImagesError(f"{d}: given twice")
        seen.add(real)
    chart_path = request.chart or find_default_chart()
    if not chart_path:
        raise ImagesError("no chart: pass --chart (the flower-federation chart directory or .tgz)")
    if request.values_files.count("-") > 1:
        raise ImagesError("-f -: standard input can be read once")
    try:
        chart = load_chart(chart_path)
        doc = valuesdoc.load(request.output)
        files = [(f if f != "-" else "<stdin>", safeyaml.load_file(f, f if f != "-" else "<stdin>"))
                 for f in request.values_files]
    except InputProblem as problem:
        raise _problem(problem) from None
    if doc.exists and request.output:
        files.append((request.output, doc.plain))
    ctx = load_context(chart, files, request.set_values, request.set_strings)
    apps = [read_app(d) for d in request.app_dirs]
    options = request.options
    options.generate_containerfiles = request.containerfile
    plan = build_plan(apps, ctx, options)

    problems = schema_errors(chart, plan.fragment())
    if problems:
        raise ImagesError(["the generated values do not match the chart's values.schema.json "
                           f"({chart.schema_file}):", *(f"  {p}" for p in problems)], EXIT_USAGE)
    warnings = list(plan.warnings)
    old_text = doc.text
    warnings += valuesdoc.apply(doc, plan)
    new_text = valuesdoc.dump(doc)
    if doc.exists:
        merged_problems = schema_errors(chart, valuesdoc.to_plain(doc))
        if merged_problems:
            warnings.append(f"{request.output}: other values in the file do not match the chart's schema "
                            f"(run `helm flower validate`): " + "; ".join(merged_problems[:5]))
    values_out = Output(request.output, old_text, new_text, doc.exists)

    containerfiles: list[Output] = []
    commands = ""
    refused: list[str] = []
    if request.containerfile:
        containerfiles, commands, refused = _containerfiles(request, plan, warnings)
    return Result(plan, values_out, containerfiles, commands, warnings, refused)


def _containerfiles(request: Request, plan: Plan, warnings: list[str]
                    ) -> tuple[list[Output], str, list[str]]:
    outputs: list[Output] = []
    refused: list[str] = []
    blocks: list[str] = []
    seen_dirs: set[str] = set()
    for entry in plan.entries:
        app = entry.app
        has_lock = os.path.isfile(os.path.join(app.directory, cf.LOCK_FILE))
        if app.directory not in seen_dirs:
            seen_dirs.add(app.directory)
            if has_lock:
                _check_ignored_lock(app.directory, warnings)
            else:
                warnings.append(f"{app.directory}: no {cf.LOCK_FILE}: dependencies other than flwr resolve within "
                                "their ranges at build time (add one to pin them)")
        extra = entry.variant if entry.variant and entry.variant in app.optional_dependencies else None
        tag = entry.tag or app.version
        if not tag:
            raise ImagesError(f"{app.pyproject}: the image needs a tag to be pushed, and [project] version is "
                              "dynamic: build with --tag-from git")
        image_ref = f"{entry.registry}/{entry.repository}:{tag}"
        text = cf.render(app_name=app.name, app_version=app.version, publisher=app.publisher,
                         distribution=app.distribution, variant=entry.variant, extra=extra,
                         image_repository=f"{entry.registry}/{entry.repository}",
                         base_image=entry.base_image, flower_version=entry.flower_version, has_lock=has_lock,
                         components=(app.serverapp, app.clientapp))
        path = entry.output_containerfile
        existed = os.path.isfile(path)
        old = ""
        if existed:
            with open(path, encoding="utf-8", errors="replace") as handle:
                old = handle.read()
            if not cf.is_generated(path) and not request.force:
                refused.append(path)
        outputs.append(Output(path, old, text, existed))
        epoch = gitinfo.commit_epoch(app.directory)
        blocks.append(cf.build_commands(label=entry.name, image_ref=image_ref, containerfile=path,
                                        context=app.directory, platform=request.options.platform, epoch=epoch,
                                        digest_file=f"{entry.name}.digest"))
    blocks.append(_digest_hint(request, plan))
    return outputs, "\n".join(blocks), refused


def _check_ignored_lock(directory: str, warnings: list[str]) -> None:
    """A .dockerignore / .containerignore that does not name the lock file probably drops it."""
    for name in (".containerignore", ".dockerignore"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                if cf.LOCK_FILE not in handle.read():
                    warnings.append(f"{path}: does not mention {cf.LOCK_FILE}; if it excludes it, the build fails "
                                    f"(add !{cf.LOCK_FILE})")
            return


def _digest_hint(request: Request, plan: Plan) -> str:
    opts = request.options
    argv = ["helm", "flower", "images", *request.app_dirs]
    if request.chart:
        argv += ["--chart", request.chart]
    for f in request.values_files:
        argv += ["-f", f]
    for text in request.set_values:
        argv += ["--set", text]
    for text in request.set_strings:
        argv += ["--set-string", text]
    argv += ["--registry", opts.registry]
    for v in opts.variants:
        argv += ["--variant", v]
    for p in opts.placement_maps:
        argv += ["--placement-map", p]
    if opts.serverapp:
        argv += ["--serverapp", opts.serverapp]
    argv += ["--tag-from", "digest"]
    text = shlex.join(argv)
    for entry in plan.entries:
        key = entry.app_key if entry.variant is None else f"{entry.app_key}:{entry.variant}"
        text += f" \\\n  --digest {key}=$(cat {shlex.quote(entry.name + '.digest')})"
    text += f" \\\n  -o {shlex.quote(request.output or 'values-images.yaml')}"
    return ("# After the pushes, pin the images by digest (each .digest file holds sha256:...):\n" + text + "\n")
