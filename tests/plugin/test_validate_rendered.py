"""validate --rendered: the real `helm template` output, including the manifests OCM ships to
managed clusters, against the Kubernetes 1.33 strict schemas and the OCM CRD schemas (from
CRD files, or from a hub's API server)."""

from __future__ import annotations

import contextlib
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from helm_flower import schemas
from helm_flower.cli import main

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "flower-federation"
CI = sorted((CHART / "ci").glob("*-values.yaml"))
HELM4 = REPO / ".tools" / "bin" / "helm4"
HOST = ["--set", "superlink.exposure.host=fl.example.com"]

pytestmark = pytest.mark.helm


@pytest.fixture(autouse=True)
def _helm_bin(monkeypatch):
    monkeypatch.setenv("HELM_BIN", str(HELM4))


def run(*args: str) -> tuple[int, dict]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(CHART), "--rendered", "-o", "json", *args])
    assert "Traceback" not in err.getvalue(), err.getvalue()
    return code, json.loads(out.getvalue())


def rendered_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] >= "FLW300"]


@pytest.mark.parametrize("values", CI, ids=lambda p: p.name)
def test_ci_values_render_valid_objects(values, ocm_crds_dir):
    _, report = run("-f", str(values), "--crds", str(ocm_crds_dir))
    errors = [f for f in rendered_findings(report) if f["severity"] == "error"]
    assert errors == []
    assert any(note.startswith("validated ") for note in report["notes"])


def test_embedded_manifests_are_validated(tmp_path, ocm_crds_dir):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"clientApp": {"apps": [{
        "name": "digits", "placements": ["default"],
        "volumes": [{"name": "data", "hostPth": {"path": "/data"}}],
        "volumeMounts": [{"name": "data", "mountPath": 12}]}]}}))
    code, report = run("-f", str(values), "--crds", str(ocm_crds_dir), *HOST)
    assert code == 1
    found = {(f["rule"], f["path"]) for f in rendered_findings(report)}
    inner = ("ManifestWorkReplicaSet/flower-clientapp-digits-default:$.spec.manifestWorkTemplate.workload.manifests[1] "
             "> Deployment/clientapp-digits:$.spec.template.spec")
    assert ("FLW300", f"{inner}.volumes[4].hostPth") in found
    assert ("FLW300", f"{inner}.containers[0].volumeMounts[4].mountPath") in found
    finding = next(f for f in rendered_findings(report) if f["path"].endswith("hostPth"))
    assert finding["hint"] == "did you mean 'hostPath'?"
    assert finding["file"].endswith("templates/manifestworkreplicasets.yaml")


def test_objects_count_includes_agent_manifests(ocm_crds_dir):
    code, report = run("--crds", str(ocm_crds_dir), *HOST)
    assert code == 0
    counted = int(next(n for n in report["notes"] if n.startswith("validated ")).split()[1])
    assert counted > 30  # top-level objects plus the AddOnTemplate's and ManifestWorkReplicaSet's manifests


def test_helm_template_failure_is_reported(ocm_crds_dir):
    code, report = run("--crds", str(ocm_crds_dir), "--set", "superlink.exposure.type=NodePort", *HOST)
    assert code == 1
    failure = [f for f in report["findings"] if f["rule"] == "FLW302"]
    assert failure and "nodePort" in failure[0]["message"]


def test_helm_not_found(monkeypatch, ocm_crds_dir, tmp_path):
    monkeypatch.delenv("HELM_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    code, report = run("--crds", str(ocm_crds_dir), *HOST)
    assert code == 1 and "helm not found" in report["findings"][-1]["message"]


def test_without_ocm_schemas(monkeypatch):
    monkeypatch.setattr(schemas, "load_project_schemas", lambda paths: None)
    code, report = run(*HOST)
    assert code == 1 and [f["rule"] for f in report["findings"]][-1] == "FLW305"


def test_kinds_without_schema_are_warnings(ocm_crds_dir):
    code, report = run("--crds", str(ocm_crds_dir), "--set", "global.tls.mode=certManager", *HOST)
    assert code == 0
    assert {f["path"].split("/")[0] for f in report["findings"] if f["rule"] == "FLW303"} >= {"Certificate"}


def test_crd_schemas_are_strict_and_defaulted(ocm_crds_dir):
    ocm = schemas.load_crd_dirs([str(ocm_crds_dir)])
    api = "cluster.open-cluster-management.io/v1beta1"
    placement = {"apiVersion": api, "kind": "Placement", "metadata": {"name": "p", "namespace": "n"},
                 "spec": {"clusterSets": ["a"], "numberOfClusters": "two", "spreadPolicy": {"bogus": 1}}}
    errors = sorted(".".join(map(str, e.absolute_path)) for e in
                    ocm.validator(api, "Placement").iter_errors(ocm.defaulted(api, "Placement", placement)))
    assert errors == ["spec.numberOfClusters", "spec.spreadPolicy"]
    mwrs = {"apiVersion": "work.open-cluster-management.io/v1alpha1", "kind": "ManifestWorkReplicaSet",
            "metadata": {"name": "m"}, "spec": {"placementRefs": [{"name": "p"}],
                                                "manifestWorkTemplate": {"workload": {"manifests": []}}}}
    defaulted = ocm.defaulted(mwrs["apiVersion"], mwrs["kind"], mwrs)
    assert defaulted["spec"]["cascadeDeletionPolicy"] == "Background"  # required, filled by the API server
    assert not list(ocm.validator(mwrs["apiVersion"], mwrs["kind"]).iter_errors(defaulted))


def test_bad_crds_option(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(CHART), "--rendered", "--crds", str(tmp_path)])
    assert code == 2 and "no CustomResourceDefinitions" in err.getvalue()


# --- CRDs from a live hub -------------------------------------------------------------------------


class _FakeHub(BaseHTTPRequestHandler):
    crds: list[dict] = []

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path.split("?")[0] == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions":
            body = json.dumps({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinitionList",
                               "metadata": {}, "items": self.crds}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            body = b'{"kind":"Status","code":404}'
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_hub(ocm_crds_dir, tmp_path):
    crds = []
    for path in sorted(ocm_crds_dir.glob("*.crd.yaml")):
        crds += [d for d in yaml.safe_load_all(path.read_text()) if d]
    crds.append({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                 "metadata": {"name": "certificates.cert-manager.io"},
                 "spec": {"group": "cert-manager.io", "names": {"kind": "Certificate"}, "versions": []}})
    handler = type("Hub", (_FakeHub,), {"crds": crds})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "other",
        "clusters": [{"name": "hub", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "admin", "user": {"token": "t"}}],
        "contexts": [{"name": "hub", "context": {"cluster": "hub", "user": "admin"}},
                     {"name": "other", "context": {"cluster": "nowhere", "user": "admin"}}]}))
    yield kubeconfig
    server.shutdown()
    server.server_close()


def test_crds_from_cluster(fake_hub, monkeypatch):
    monkeypatch.setenv("HELM_KUBECONTEXT", "hub")
    monkeypatch.setenv("KUBECONFIG", str(fake_hub))
    code, report = run("--crds-from-cluster", *HOST)
    assert code == 0, report["findings"]
    assert "OCM schemas from hub hub" in report["notes"]


def test_crds_from_an_unreachable_cluster(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "hub",
        "clusters": [{"name": "hub", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "hub", "context": {"cluster": "hub", "user": "u"}}]}))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(CHART), "--rendered", "--crds-from-cluster", "--kubeconfig", str(kubeconfig)])
    assert code == 2 and "cannot read CustomResourceDefinitions from the hub" in err.getvalue()


@pytest.mark.parametrize("source", ["crds", "project"])
def test_embedded_manifest_metadata_is_checked_as_the_api_server_does(source, ocm_crds_dir):
    """A real hub's API server rejected an AddOnTemplate whose manifests carried
    metadata.namespace "{{INSTALL_NAMESPACE}}" (an embedded resource's namespace must be a DNS label):
    validate must refuse it offline too, from the CRD files and from the project's own schemas."""
    ocm = (schemas.load_crd_dirs([str(ocm_crds_dir)]) if source == "crds"
           else schemas.load_project_schemas([REPO]))
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "namespace": "flower-fed"}}
    template = {"apiVersion": "addon.open-cluster-management.io/v1alpha1", "kind": "AddOnTemplate",
                "metadata": {"name": "t"},
                "spec": {"addonName": "t", "agentSpec": {"workload": {"manifests": [manifest]}}}}
    validator = ocm.validator(template["apiVersion"], template["kind"])

    def errors() -> list[str]:
        return sorted(".".join(map(str, e.absolute_path)) for e in validator.iter_errors(template))

    assert errors() == []
    manifest["metadata"]["namespace"] = "{{INSTALL_NAMESPACE}}"
    assert errors() == ["spec.agentSpec.workload.manifests.0.metadata.namespace"]
    manifest["metadata"]["namespace"] = "flower-fed"
    del manifest["kind"]
    assert errors() == ["spec.agentSpec.workload.manifests.0"]
