"""Kubeconfig files of the test fleet (client certificates or a token, CA files by path)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Entry:
    context: str
    server: str
    ca_file: Path
    client_cert: Path | None = None
    client_key: Path | None = None
    token: str | None = None

    def user(self) -> dict:
        if self.token is not None:
            return {"token": self.token}
        return {"client-certificate": str(self.client_cert), "client-key": str(self.client_key)}


def write(path: Path, entries: list[Entry], current: str | None = None) -> Path:
    doc = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": e.context, "cluster": {"server": e.server, "certificate-authority": str(e.ca_file)}}
                     for e in entries],
        "users": [{"name": f"{e.context}-admin", "user": e.user()} for e in entries],
        "contexts": [{"name": e.context, "context": {"cluster": e.context, "user": f"{e.context}-admin"}}
                     for e in entries],
        "current-context": current or entries[0].context,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(doc, sort_keys=False))
    tmp.chmod(0o600)
    tmp.replace(path)
    return path
