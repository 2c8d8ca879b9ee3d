"""The fleet's supervisor: a background process that starts every component in order, joins the
managed clusters, then watches: an OCM agent that exits (on purpose, after a credential change) is
restarted as a kubelet would; any other process that dies is recorded with the tail of its log.
SIGTERM stops everything it started (process groups and every marked descendant)."""

from __future__ import annotations

import os
import signal
import time
import traceback
import urllib.request

from helm_flower.rehearse.processes import Proc, Supervisor

from . import bootstrap as b
from . import components as c
from . import kubeconfig, pki
from .layout import CLUSTER_SET, HUB, MANAGED, Layout, free_port
from .runner import ProcessRunner

POLL = 1.0
RESTART_BACKOFF = (1, 2, 5, 10, 20)


class Stopped(Exception):
    pass


class FleetSupervisor:
    def __init__(self, layout: Layout, owner_pid: int | None = None) -> None:
        self.layout = layout
        self.owner_pid = owner_pid  # stop when this process is gone (a test session killed outright)
        self.sup = Supervisor(layout.marker)
        self.procs: dict[str, Proc] = {}
        self.components: dict[str, c.Component] = {}
        self.restarts: dict[str, int] = {}
        self.stopping = False
        self.ports = {name: free_port() for name in c.all_ports(MANAGED)}
        self.state: dict = {"supervisor_pid": os.getpid(), "phase": "starting", "ports": self.ports,
                            "progress": "", "dead": [], "restarts": self.restarts, "started_at": time.time()}

    # -- state ---------------------------------------------------------------------------------

    def progress(self, text: str) -> None:
        self.state["progress"] = text
        self.save()

    def save(self) -> None:
        self.state["pids"] = {k: p.pid for k, p in self.procs.items()}
        self.layout.write_state(self.state)

    def check_stop(self) -> None:
        if self.stopping:
            raise Stopped()

    def wait(self, what: str, check, timeout: float = 120):
        self.progress(f"waiting for {what}")

        def guarded():
            self.check_stop()
            self.check_deaths(fatal=True)
            return check()
        return b.wait_for(what, guarded, timeout)

    # -- processes -----------------------------------------------------------------------------

    def start(self, component: c.Component) -> None:
        env = {**os.environ, **component.env}
        proc = Proc(component.key, component.key, component.argv, env,
                    self.layout.logs / f"{component.key.replace('/', '-')}.log")
        self.components[component.key] = component
        self.procs[component.key] = self.sup.start(proc)

    def check_deaths(self, fatal: bool) -> None:
        for key, proc in list(self.procs.items()):
            if proc.alive():
                continue
            component = self.components[key]
            if component.restart and not self.stopping:
                count = self.restarts.get(key, 0)
                time.sleep(RESTART_BACKOFF[min(count, len(RESTART_BACKOFF) - 1)] if count else 0)
                self.restarts[key] = count + 1
                with open(proc.log_path, "a") as log:
                    log.write(f"\n--- ocmfleet: exited with {proc.returncode}; restart {count + 1} ---\n")
                self.start(component)
                self.save()
                continue
            entry = {"process": key, "returncode": proc.returncode, "log": str(proc.log_path),
                     "tail": proc.log_tail(15)}
            if entry["process"] not in [d["process"] for d in self.state["dead"]]:
                self.state["dead"].append(entry)
                self.state["phase"] = "degraded" if self.state["phase"] == "ready" else self.state["phase"]
                self.progress(f"{key} exited with {proc.returncode}")
            if fatal:
                raise b.FleetError(f"{key} exited with code {proc.returncode}; last lines of {proc.log_path}:\n"
                                   f"{entry['tail']}")

    # -- bring-up ------------------------------------------------------------------------------

    def make_pki(self) -> None:
        for cluster in (HUB, *MANAGED):
            directory = self.layout.pki(cluster)
            ca = pki.make_ca(directory, f"{cluster}-ca")
            pki.issue(ca, directory, "apiserver", common_name=f"{cluster}-apiserver", server=True,
                      hosts=("127.0.0.1", "localhost", "kubernetes", "kubernetes.default",
                             "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "10.96.0.1"))
            pki.issue(ca, directory, "admin", common_name="fleet-admin", organizations=("system:masters",))
            pki.make_signing_key(directory, "service-account")
            kubeconfig.write(self.layout.admin_kubeconfig(cluster), [self.entry(cluster)])
        hub_ca = pki.KeyPair(self.layout.pki(HUB) / "ca.crt", self.layout.pki(HUB) / "ca.key")
        serving = pki.issue(hub_ca, self.layout.webhook_certs.parent, "webhooks", common_name="127.0.0.1",
                            server=True, hosts=("127.0.0.1",))
        self.layout.webhook_certs.mkdir(parents=True, exist_ok=True)
        serving.cert.replace(self.layout.webhook_certs / "tls.crt")
        serving.key.replace(self.layout.webhook_certs / "tls.key")

    def entry(self, cluster: str) -> kubeconfig.Entry:
        directory = self.layout.pki(cluster)
        return kubeconfig.Entry(cluster, f"https://127.0.0.1:{self.ports[cluster]}", directory / "ca.crt",
                                directory / "admin.crt", directory / "admin.key")

    def api(self, cluster: str):
        return b.api_client(self.layout.admin_kubeconfig(cluster))

    def bring_up(self) -> None:
        self.progress("making certificates")
        self.make_pki()
        self.start(c.etcd(self.layout, self.ports))
        self.wait("etcd", lambda: urllib.request.urlopen(  # noqa: S310 (loopback)
            f"http://127.0.0.1:{self.ports['etcd']}/health", timeout=2).status == 200, 60)
        clusters = (HUB, *MANAGED)
        for cluster in clusters:
            self.start(c.kube_apiserver(self.layout, cluster, self.ports))
        apis = {cluster: self.api(cluster) for cluster in clusters}
        for cluster in clusters:
            self.wait(f"{cluster}'s kube-apiserver", lambda a=apis[cluster]: b.apiserver_ready(a), 180)
        for cluster in clusters:
            for component in (c.kube_controller_manager(self.layout, cluster),
                              c.kube_scheduler(self.layout, cluster), c.kwok(self.layout, cluster)):
                self.start(component)
            b.create_fake_node(apis[cluster])
            b.ensure_storage_class(apis[cluster])
        for cluster in clusters:
            self.wait(f"{cluster}'s fake node to be Ready", lambda a=apis[cluster]: b.node_ready(a))
            self.wait(f"{cluster}'s default ServiceAccount", lambda a=apis[cluster]: b.default_service_account(a))
        self.bring_up_hub(apis[HUB])
        self.join(apis)
        self.runner = ProcessRunner(apis, self.sup, self.layout.root / "pods", self.layout.logs, self.layout.pki)
        self.runner.register()
        self.write_user_kubeconfig()
        self.state["phase"] = "ready"
        self.state["ready_after_seconds"] = round(time.time() - self.state["started_at"], 1)
        self.progress("ready")

    def bring_up_hub(self, hub) -> None:
        self.progress("applying OCM's hub CRDs")
        ca_bundle = (self.layout.pki(HUB) / "ca.crt").read_bytes()
        b.create_namespaces(hub, "open-cluster-management-hub")
        b.apply_hub_crds(hub, ca_bundle, self.ports["webhooks"])
        hub_entry = self.entry(HUB)
        for identity in b.CONTROLLER_IDENTITIES:
            kubeconfig.write(self.layout.controller_kubeconfig(identity), [kubeconfig.Entry(
                HUB, hub_entry.server, hub_entry.ca_file, token=b.controller_token(hub, identity))])
        for component in c.ocm_hub(self.layout, self.ports):
            self.start(component)
        self.wait("OCM's webhooks to serve", lambda: b.serving(self.ports["webhooks"], ca_bundle), 60)
        b.apply_webhook_configurations(hub, ca_bundle, self.ports["webhooks"])
        token = b.bootstrap_token(hub)
        kubeconfig.write(self.layout.bootstrap_kubeconfig,
                         [kubeconfig.Entry(HUB, hub_entry.server, hub_entry.ca_file, token=token)])

    def join(self, apis: dict) -> None:
        hub = apis[HUB]
        for cluster in MANAGED:
            b.prepare_managed(apis[cluster])
            self.layout.agent_dir(cluster).mkdir(parents=True, exist_ok=True)
            self.start(c.klusterlet_agent(self.layout, cluster, self.ports[f"{cluster}/agent"]))
        admin = self.layout.admin_kubeconfig(HUB)
        for cluster in MANAGED:
            self.wait(f"{cluster} to register (ManagedCluster and CSR)",
                      lambda n=cluster: b.managed_cluster(hub, n) and b.pending_csr(hub, n))
            self.progress(f"clusteradm accept --clusters {cluster}")
            b.accept(hub, admin, cluster)
        wanted = {cluster: ("true", "True", CLUSTER_SET) for cluster in MANAGED}
        self.wait("clusteradm get clusters to list every cluster accepted, available, in the default set",
                  lambda: {n: r for n, r in b.joined_clusters(admin).items() if n in wanted} == wanted, 300)

    def run_pods(self) -> None:
        """One round of the process nodes' kubelet; its failures are logged, never fatal."""
        try:
            self.runner.sync()
            addresses = {f"{c}/{name}:{port}": proxy.port
                         for (c, name, port), proxy in self.runner.addresses.internal.items() if proxy.backends}
            addresses.update({f"external/{name}:{port}": proxy.port
                              for (name, port), proxy in self.runner.addresses.external.items() if proxy.backends})
            if addresses != self.state.get("addresses"):
                self.state["addresses"] = addresses
                self.save()
        except Exception:  # an API server being restarted, a pod deleted mid-round: next round
            message = traceback.format_exc()
            if message != self.state.get("last_runner_error"):
                self.state["last_runner_error"] = message
                print(message, flush=True)
                self.save()

    def provision(self, apis: dict) -> None:
        for cluster, api in apis.items():
            try:
                b.provision_volumes(api, self.layout.root / "volumes" / cluster)
            except Exception as exc:  # an API server being restarted by a test: try again next round
                self.state["last_provision_error"] = f"{cluster}: {exc}"

    def write_user_kubeconfig(self) -> None:
        kubeconfig.write(self.layout.kubeconfig, [self.entry(cl) for cl in (HUB, *MANAGED)], current=HUB)

    # -- run -----------------------------------------------------------------------------------

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            self.bring_up()
            apis = {cluster: self.api(cluster) for cluster in (HUB, *MANAGED)}
            while not self.stopping and self.owner_alive():
                self.check_deaths(fatal=False)
                self.provision(apis)
                self.run_pods()
                time.sleep(POLL)
            return 0
        except Stopped:
            return 0
        except Exception as exc:  # report, then tear down: the fleet is unusable
            self.state["phase"] = "failed"
            self.state["error"] = str(exc) if isinstance(exc, b.FleetError) else traceback.format_exc()
            self.progress("failed")
            return 1
        finally:
            left = self.sup.teardown(grace=10)
            self.state["phase"] = "failed" if self.state["phase"] == "failed" else "stopped"
            self.state["left_behind"] = left
            self.layout.write_state(self.state)

    def owner_alive(self) -> bool:
        if self.owner_pid is None:
            return True
        try:
            os.kill(self.owner_pid, 0)
        except ProcessLookupError:
            self.progress(f"owner process {self.owner_pid} is gone: stopping")
            return False
        except PermissionError:
            pass
        return True

    def _stop(self, _signum, _frame) -> None:
        self.stopping = True


def main(layout: Layout, owner_pid: int | None = None) -> int:
    layout.logs.mkdir(parents=True, exist_ok=True)
    return FleetSupervisor(layout, owner_pid).run()
