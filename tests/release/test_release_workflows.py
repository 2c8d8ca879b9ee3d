"""The GitHub workflows (ci, release, e2e) cannot run here; they are linted (issue #8)."""
from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from conftest import ROOT, TOOLS

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yaml"))


def test_the_three_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yaml", "release.yaml", "e2e.yaml"}


def test_actionlint_passes():
    actionlint = TOOLS / "bin" / "actionlint"
    if not actionlint.exists():
        pytest.fail(f"{actionlint} is missing: run make tools", pytrace=False)
    result = subprocess.run([actionlint, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_third_party_actions_are_pinned_by_commit(workflow):
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)", workflow.read_text(), re.M)
    assert uses
    unpinned = [u for u in uses if not u.startswith("./") and not re.search(r"@[0-9a-f]{40}$", u)]
    assert unpinned == []


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_declare_least_privilege_permissions(workflow):
    document = yaml.safe_load(workflow.read_text())
    assert "permissions" in document, "set top-level permissions (the default token is too broad)"


# --------------------------------------------------------------------------- one source of tool versions
# hack/ pins every tool the workflows use except kind: Go tools in hack/go/<name>/go.mod (built by
# hack/install-go-tools.sh), Helm in hack/tools.lock (hack/install-tools.sh). The workflows get them
# through make / those scripts; these tests fail when a workflow installs or names another version.
RECIPE = re.compile(r"^([a-z0-9-]+)\|([^|]+)\|([^|]+)\|[^|]*\|(.*)$", re.M)


def hack_go_tools() -> dict[str, dict]:
    """{recipe name: {"module": the tool's module path, "version": pinned version}} for every recipe
    of hack/install-go-tools.sh (a recipe that builds its own folder names its module in its
    description's parentheses)."""
    script = (ROOT / "hack" / "install-go-tools.sh").read_text()
    recipes = script.split("RECIPES='", 1)[1].split("'", 1)[0]
    tools = {}
    for name, folder, package, what in RECIPE.findall(recipes):
        gomod = (ROOT / "hack" / "go" / folder / "go.mod").read_text()
        requires = dict(re.findall(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)", gomod, re.M))
        if package in ("-", "."):
            module = next(m for m in re.findall(r"\(([^);]+)", what) if m in requires)
        else:
            module = max((m for m in requires if package == m or package.startswith(m + "/")), key=len)
        tools[name] = {"module": module, "version": requires[module].lstrip("v")}
    return tools


def module_name(module: str) -> str:
    """The repository's name: github.com/helm/chart-testing/v3 -> chart-testing, go.etcd.io/etcd/server/v3 -> etcd."""
    parts = module.split("/")
    return parts[2] if parts[0] == "github.com" else parts[1]


def hack_pins() -> dict[str, set[str]]:
    """{a name a workflow would call the tool by: versions hack/ pins}."""
    pins: dict[str, set[str]] = {}
    for name, tool in hack_go_tools().items():
        for alias in {name, module_name(tool["module"])} - {"api"}:  # "api": too common a word
            pins.setdefault(alias, set()).add(tool["version"])
    for line in (ROOT / "hack" / "tools.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split()[:2]
            pins.setdefault(re.sub(r"\d+$", "", name), set()).add(version)
    return pins


def test_hack_pins_are_read():
    tools, pins = hack_go_tools(), hack_pins()
    assert tools["ct"] == {"module": "github.com/helm/chart-testing/v3", "version": "3.14.0"}
    assert tools["helm-docs"]["module"] == "github.com/norwoodj/helm-docs"
    assert pins["chart-testing"] == pins["ct"] and pins["helm"] == {"4.1.4", "3.17.3"}
    assert {"clusteradm", "actionlint", "kwok", "etcd", "kubernetes", "ocm"} <= set(pins)
    assert tools["ocm-crds"]["module"] == "open-cluster-management.io/api" and "api" not in pins
    assert tools["etcd"]["module"] == "go.etcd.io/etcd/server/v3"


def workflow_pin_problems(name: str, text: str, pins: dict[str, set[str]], tools: dict[str, dict]) -> list[str]:
    problems = []
    for package, version in re.findall(r"\bgo\s+(?:install|run|get)\s+\"?([^\s\"@]+)@([^\s\"]+)", text):
        owner = next((n for n, t in tools.items() if package == t["module"] or package.startswith(t["module"] + "/")), None)
        if owner:
            problems.append(f"{name}: `go install {package}@{version}`: hack/ pins {owner}, "
                            f"install it with hack/install-go-tools.sh {owner}")
    for var, value in re.findall(r"^\s*([A-Z][A-Z0-9_]*)_VERSION:\s*\"?([^\s\"#]+)", text, re.M):
        tool = var.lower().replace("_", "-")
        if tool in pins:
            problems.append(f"{name}: {var}_VERSION: {value}: hack/ pins {tool} ({', '.join(sorted(pins[tool]))}); "
                            "use hack/'s pin instead of a second one")
    for line in text.splitlines():
        for tool, versions in pins.items():
            for version in re.findall(rf"(?<![\w./-]){re.escape(tool)}(?![\w-])[^\n]*?\bv?(\d+\.\d+\.\d+)\b", line,
                                      re.I):
                if version not in versions:
                    problems.append(f"{name}: {line.strip()!r} names {tool} {version}; hack/ pins "
                                    f"{', '.join(sorted(versions))}")
    return problems


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_use_the_tool_versions_hack_pins(workflow):
    assert workflow_pin_problems(workflow.name, workflow.read_text(), hack_pins(), hack_go_tools()) == []


def test_pin_check_catches_a_workflow_with_its_own_versions():
    pins, tools = hack_pins(), hack_go_tools()
    text = ("env:\n  CT_VERSION: v3.14.0\n  KIND_VERSION: v0.32.0\n"
            "steps:\n  - run: go install \"github.com/helm/chart-testing/v3/ct@$CT_VERSION\"\n"
            "  - run: go install open-cluster-management.io/clusteradm/cmd/clusteradm@v1.3.0\n"
            "  - run: curl -LO https://get.helm.sh/helm-v3.16.0-linux-amd64.tar.gz  # helm 3.16.0\n")
    problems = workflow_pin_problems("x.yaml", text, pins, tools)
    assert any("CT_VERSION: v3.14.0: hack/ pins ct" in p for p in problems)
    assert any("`go install github.com/helm/chart-testing/v3/ct@$CT_VERSION`" in p for p in problems)
    assert any("clusteradm/cmd/clusteradm@v1.3.0`: hack/ pins clusteradm" in p for p in problems)
    assert any("names helm 3.16.0" in p for p in problems)
    assert not any("KIND" in p or "kind" in p.split(":")[1] for p in problems)  # kind: not pinned by hack/


def _go_version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def test_workflows_set_up_a_go_that_builds_every_hack_module():
    needed = max(_go_version(re.search(r"^go (\S+)$", p.read_text(), re.M).group(1))
                 for p in (ROOT / "hack" / "go").glob("*/go.mod"))
    for workflow in WORKFLOWS:
        for job_name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            steps = job["steps"]
            runs = "\n".join(s.get("run", "") for s in steps)
            builds = re.search(r"\bmake (tools|test|lint|release)\b|install-go-tools\.sh", runs)
            setups = [s for s in steps if s.get("uses", "").startswith("actions/setup-go@")]
            if not builds:
                continue
            assert setups, f"{workflow.name}/{job_name} builds hack/go tools without actions/setup-go"
            version = str(setups[0]["with"]["go-version"])
            assert _go_version(version)[:2] >= needed[:2], \
                f"{workflow.name}/{job_name}: Go {version}, hack/go modules need {'.'.join(map(str, needed))}"
            assert steps.index(setups[0]) < next(i for i, s in enumerate(steps)
                                                  if re.search(r"\bmake |install-go-tools", s.get("run", "")))


def test_clusteradm_embeds_the_ocm_of_the_control_plane():
    """clusteradm's init/join charts come from the ocm module its go.mod replaces; they must be the
    OCM the fleet runs (hack/go/ocm)."""
    replaced = re.search(r"^replace open-cluster-management.io/ocm => open-cluster-management.io/ocm (\S+)$",
                         (ROOT / "hack/go/clusteradm/go.mod").read_text(), re.M)
    fleet = re.search(r"^\s*open-cluster-management.io/ocm (\S+)$", (ROOT / "hack/go/ocm/go.mod").read_text(), re.M)
    assert replaced and fleet and replaced.group(1) == fleet.group(1)
