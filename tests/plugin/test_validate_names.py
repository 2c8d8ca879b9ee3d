"""`helm flower validate` and `helm template` agree on every name limit: what one refuses the other
refuses, naming the same limit, with both Helms. The chart shortens every name it makes, so the
limits left are the release name (Helm's 53), the release namespace under OCM's ManifestWork label
(ClientApps), and the explicit overrides. Where only the API server would refuse (a namespace that
is not a DNS label, a Service name starting with a digit), validate says so before it."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from helm_flower.cli import main

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "flower-federation"
HOST = {"superlink": {"exposure": {"host": "fl.example.com"}}}
NO_APPS = {**HOST, "clientApp": {"enabled": False}}
NODE_AUTH = {**HOST, "global": {"nodeAuth": {"enabled": True}}}

pytestmark = pytest.mark.helm

# id -> (release, namespace, values, None when both accept, else (validate's rule, a text both errors hold))
AGREE = {
    "longest-release-long-namespace": ("r" * 53, "n" * 40, HOST, None),
    "node-auth-longest-release": ("r" * 53, "n" * 40, NODE_AUTH, None),
    "namespace-50": ("flower", "n" * 50, HOST, None),
    "namespace-52-with-clientapps": ("r" * 53, "n" * 52, HOST, None),
    "namespace-53-with-clientapps": ("flower", "n" * 53, HOST,
                                     ("FLW250", "work.open-cluster-management.io/manifestworkreplicaset=<namespace>.<name>")),
    "namespace-63-without-clientapps": ("flower", "n" * 63, NO_APPS, None),
    "release-54": ("r" * 54, "flower", HOST, ("FLW253", "53")),
    "addon-override-58": ("flower", "flower", {**HOST, "global": {"addon": {"name": "a" * 58}}},
                          ("FLW251", "57")),
    "addon-override-57": ("flower", "flower", {**HOST, "global": {"addon": {"name": "a" * 57}}}, None),
    "agent-namespace-system": ("flower", "flower", {**HOST, "global": {"managedCluster": {"namespace": "kube-system"}}},
                               ("FLW252", "kube-system")),
}
# Helm renders these; the API server would refuse them: validate refuses first.
API_SERVER_ONLY = {
    "namespace-64": ("flower", "n" * 64, NO_APPS, ("FLW253", f"release namespace {'n' * 64!r} has 64 characters")),
    "namespace-not-a-label": ("flower", "Flower_NS", HOST, ("FLW253", "release namespace 'Flower_NS' must be a DNS-1123 label")),
    "release-starts-with-a-digit": ("9lives", "flower", HOST, ("FLW253", "'9lives-superlink' must start with a letter")),
}


def validate(tmp_path: Path, release: str, namespace: str, values: dict) -> tuple[int, list[dict]]:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(CHART), "-f", str(path), "--release", release, "-n", namespace, "-o", "json"])
    assert "Traceback" not in err.getvalue(), err.getvalue()
    return code, json.loads(out.getvalue())["findings"]


def template(helm: Path, tmp_path: Path, release: str, namespace: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(helm), "template", release, str(CHART), "-n", namespace, "-f", str(tmp_path / "values.yaml")],
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("helm_version", ["4", "3"], ids=lambda v: f"helm{v}")
@pytest.mark.parametrize("case", list(AGREE), ids=str)
def test_validate_and_helm_template_agree(case: str, helm_version: str, helm_bins, tmp_path: Path) -> None:
    release, namespace, values, refusal = AGREE[case]
    code, findings = validate(tmp_path, release, namespace, values)
    proc = template(helm_bins[helm_version], tmp_path, release, namespace)
    errors = [f for f in findings if f["severity"] == "error"]
    if refusal is None:
        assert code == 0 and not errors, errors
        assert proc.returncode == 0, proc.stderr
        return
    rule, text = refusal
    assert code == 1 and proc.returncode != 0, (errors, proc.stdout[-300:])
    assert [f for f in errors if f["rule"] == rule and text in f["message"]], errors
    assert text in proc.stderr, proc.stderr


@pytest.mark.parametrize("case", list(API_SERVER_ONLY), ids=str)
def test_validate_refuses_what_only_the_api_server_would(case: str, helm_bins, tmp_path: Path) -> None:
    release, namespace, values, (rule, text) = API_SERVER_ONLY[case]
    code, findings = validate(tmp_path, release, namespace, values)
    assert code == 1 and [f for f in findings if f["rule"] == rule and text in f["message"]], findings
    assert template(helm_bins["4"], tmp_path, release, namespace).returncode == 0
