"""``helm flower connect RELEASE [--name NAME]``: a flwr connection for the deployed SuperLink.

Writes (or updates) ``[superlink.NAME]`` in ``$FLWR_HOME/config.toml`` (default ``~/.flwr``)
with the SuperLink's address and ``root-certificates`` = the release's CA (ConfigMap
``<release>-ca-bundle``, key ``ca.crt``) saved with mode 0600 under ``$FLWR_HOME``. Other
connections, comments and formatting are left alone; both files are written atomically.

Exit codes: 0 written, 1 the SuperLink has no reachable address yet, 2 usage / hub errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..hub.cliargs import add_hub_options, opt, run_guarded
from ..hub.errors import EXIT_OK, EXIT_USAGE, HubError
from ..options import add_output_option, new_command

SUMMARY = "write the flwr connection ($FLWR_HOME/config.toml) for the release's SuperLink"
DESCRIPTION = """\
Write or update [superlink.NAME] in $FLWR_HOME/config.toml (default ~/.flwr): the SuperLink's
address, from its exposure (LoadBalancer, NodePort, Ingress, Route), or 127.0.0.1 and a
port-forward when the exposure carries the Fleet API only or there is none; and
root-certificates, the release's CA (ConfigMap <release>-ca-bundle) saved with mode 0600 under
$FLWR_HOME. Other connections and comments are kept; files are written atomically."""
EPILOG = """\
examples:
  helm flower connect fed -n flower
  helm flower connect fed -n flower --name prod --set-default
  helm flower connect fed -n flower --address 198.51.100.7:31092

exit codes: 0 written, 1 no reachable address yet (LoadBalancer pending), 2 usage or hub errors."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = new_command(subparsers, "connect", summary=SUMMARY, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("release", help="Helm release name")
    add_hub_options(p)
    add_output_option(p)
    p.add_argument("--name", default=None, help="connection name in config.toml (default: the release name)")
    p.add_argument("--address", default=None, metavar="HOST:PORT",
                   help="use this SuperLink address (e.g. a node address for NodePort, or a port-forward)")
    p.add_argument("--insecure", action="store_true",
                   help="write insecure = true (only for releases with global.tls.mode=disabled)")
    p.add_argument("--set-default", action="store_true", help="also make it flwr's default connection")
    p.add_argument("--flwr-home", default=None, help=argparse.SUPPRESS)
    return p


def run(args: argparse.Namespace) -> int:
    return run_guarded(lambda: _run(args))


def flwr_home(args: argparse.Namespace, env: dict[str, str]) -> Path:
    raw = getattr(args, "flwr_home", None) or env.get("FLWR_HOME") or "~/.flwr"
    return Path(os.path.abspath(os.path.expanduser(raw)))


def _run(args: argparse.Namespace, out: Any = None) -> int:
    out = out or sys.stdout
    fmt = opt(args, "output", "table")
    env = dict(os.environ)
    name = args.name or args.release
    from ..hub.flwrconfig import BARE_KEY, FLWR_DEFAULT_CONFIG, update_connection

    if not BARE_KEY.fullmatch(name):
        raise HubError(f"--name {name!r}: a connection name may use letters, digits, '-' and '_' only", EXIT_USAGE)
    if args.address and (":" not in args.address or args.address.rsplit(":", 1)[1] == ""
                         or "://" in args.address):
        raise HubError(f"--address {args.address!r}: give host:port without a scheme", EXIT_USAGE)

    from ..hub.exposure import resolve
    from ..hub.fileio import atomic_write
    from ..hub.kube import ConnectionSettings, Hub, resolve_namespace
    from ..hub.resources import CONFIG_MAPS, ca_bundle_configmap

    with Hub(ConnectionSettings.from_args(args)) as hub:
        namespace = resolve_namespace(opt(args, "namespace"), hub)
        endpoint = resolve(hub, args.release, namespace, address=args.address)
        ca_pem = None
        if not args.insecure:
            cm = hub.get(CONFIG_MAPS, ca_bundle_configmap(args.release, namespace), namespace)
            ca_pem = ((cm or {}).get("data") or {}).get("ca.crt")
            if not ca_pem:
                raise HubError(
                    f"no CA bundle for release {args.release!r}: ConfigMap {ca_bundle_configmap(args.release, namespace)} "
                    f"(key ca.crt) is missing in namespace {namespace}. If the release runs without TLS "
                    "(global.tls.mode=disabled), pass --insecure.", EXIT_USAGE)

    home = flwr_home(args, env)
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HubError(f"cannot create {home}: {exc.strerror or exc}") from None
    config_path = home / "config.toml"
    try:
        text = config_path.read_text(encoding="utf-8")
        created = False
    except FileNotFoundError:
        text, created = FLWR_DEFAULT_CONFIG, True
    except (OSError, UnicodeDecodeError) as exc:
        raise HubError(f"cannot read {config_path}: {exc}") from None

    ca_path = None
    if ca_pem is not None:
        cert_dir = home / "certificates"
        cert_dir.mkdir(mode=0o700, exist_ok=True)
        ca_path = cert_dir / f"{name}-ca.crt"
    # Validate the edit before writing anything.
    new_text = update_connection(text, name, address=endpoint.address,
                                 root_certificates=str(ca_path) if ca_path else None,
                                 insecure=ca_path is None, set_default=args.set_default)
    if ca_path is not None:
        atomic_write(ca_path, ca_pem if ca_pem.endswith("\n") else ca_pem + "\n", mode=0o600)
    if new_text != text or created:
        atomic_write(config_path, new_text, mode=None if not created else 0o600)

    result = {"connection": name, "config": str(config_path), "address": endpoint.address,
              "via": endpoint.kind, "exposure": endpoint.exposure,
              "rootCertificates": str(ca_path) if ca_path else None, "insecure": ca_path is None,
              "default": bool(args.set_default), "portForward": endpoint.port_forward or None,
              "notes": endpoint.notes}
    if fmt == "json":
        from ..hub.render import dump_json

        dump_json(result, out)
    elif fmt == "yaml":
        from ..hub.render import dump_yaml

        dump_yaml(result, out)
    else:
        out.write(f"wrote connection {name!r} to {config_path}\n")
        out.write(f"  address = {endpoint.address}   ({endpoint.kind})\n")
        if ca_path:
            out.write(f"  root-certificates = {ca_path}   (mode 0600)\n")
        else:
            out.write("  insecure = true\n")
        for note in endpoint.notes:
            out.write(f"note: {note}\n")
        if endpoint.port_forward:
            out.write(f"before `flwr run`, keep this running:\n  {endpoint.port_forward}\n")
        out.write(f"then: flwr run <app-dir> {name} --stream\n")
    return EXIT_OK
