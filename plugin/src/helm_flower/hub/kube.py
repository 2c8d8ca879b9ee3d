"""Connecting to the hub with the official ``kubernetes`` client; paged lists, gets and watches.

Credentials, in the order Helm itself applies them:

1. the kubeconfig (``KUBECONFIG``, colon-separated, else ``~/.kube/config``) and its context
   (``--kube-context``, else ``HELM_KUBECONTEXT``, else the current context);
2. ``HELM_KUBEAPISERVER``, ``HELM_KUBETOKEN``, ``HELM_KUBECAFILE``, ``HELM_KUBETLS_SERVER_NAME``,
   ``HELM_KUBEINSECURE_SKIP_TLS_VERIFY``, ``HELM_KUBEASUSER`` / ``HELM_KUBEASGROUPS`` override it
   (Helm passes them to plugins when its matching flags are set); with ``HELM_KUBEAPISERVER``
   no kubeconfig is needed;
3. in a pod, the in-cluster ServiceAccount.

Every request carries a (connect, read) timeout; every failure becomes a :class:`HubError`.
Objects are returned as plain dicts (JSON), never as generated model classes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import HubError, Operation, from_api_exception, from_transport_error
from .resources import Resource

DEFAULT_PAGE_SIZE = 500  # what kubectl uses
DEFAULT_REQUEST_TIMEOUT = 30.0


@dataclass
class ConnectionSettings:
    kube_context: str | None = None
    kubeconfig: str | None = None  # None = $KUBECONFIG or ~/.kube/config
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def from_args(cls, args: Any) -> "ConnectionSettings":
        return cls(
            kube_context=getattr(args, "kube_context", None) or None,
            kubeconfig=getattr(args, "kubeconfig", None) or None,
            request_timeout=float(getattr(args, "request_timeout", None) or DEFAULT_REQUEST_TIMEOUT),
        )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def build_configuration(settings: ConnectionSettings) -> tuple[Any, str | None, str]:
    """A ``kubernetes.client.Configuration`` for the hub, the kubeconfig context's namespace (or
    None) and a description of where the settings came from (for error messages)."""
    from kubernetes import client, config  # lazy: ~270 ms
    from kubernetes.config.config_exception import ConfigException

    env = settings.env
    cfg = client.Configuration()
    context = settings.kube_context or env.get("HELM_KUBECONTEXT") or None
    kubeconfig = settings.kubeconfig or env.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    apiserver = env.get("HELM_KUBEAPISERVER") or ""
    namespace: str | None = None
    source = ""
    paths = [p for p in kubeconfig.split(os.pathsep) if p]
    have_file = any(os.path.isfile(os.path.expanduser(p)) for p in paths)
    if have_file:
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg,
                                    persist_config=False)
            contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)
        except ConfigException as exc:
            msg = str(exc)
            if context and context in msg or "context" in msg.lower():
                raise HubError(f"kube context {context!r} not found in {kubeconfig}: {msg}" if context else
                               f"the kubeconfig {kubeconfig} has no usable current context: {msg}. "
                               "Pass --kube-context.") from None
            raise HubError(f"cannot use the kubeconfig {kubeconfig}: {msg}") from None
        except (OSError, ValueError) as exc:
            raise HubError(f"cannot read the kubeconfig {kubeconfig}: {exc}") from None
        active = next((c for c in contexts if c.get("name") == context), None) if context else current
        if active:
            namespace = (active.get("context") or {}).get("namespace") or None
        source = f"kube context {(active or {}).get('name', context)!r} of {kubeconfig}"
    elif apiserver:
        source = "HELM_KUBEAPISERVER"
    elif env.get("KUBERNETES_SERVICE_HOST") and os.path.isfile("/var/run/secrets/kubernetes.io/serviceaccount/token"):
        config.load_incluster_config(client_configuration=cfg)
        source = "the in-cluster ServiceAccount"
    else:
        raise HubError(
            f"no kubeconfig: {kubeconfig} does not exist. Point KUBECONFIG at the hub's kubeconfig, "
            "or run this as `helm flower ...` with --kube-apiserver/--kube-token."
        )
    token = env.get("HELM_KUBETOKEN") or ""

    def apply_overrides(c: Any) -> None:
        if apiserver:
            c.host = apiserver.rstrip("/")
        if token:
            c.api_key = {"BearerToken": "Bearer " + token}
            c.api_key_prefix = {}
        if env.get("HELM_KUBECAFILE"):
            c.ssl_ca_cert = env["HELM_KUBECAFILE"]
        if env.get("HELM_KUBETLS_SERVER_NAME"):
            c.tls_server_name = env["HELM_KUBETLS_SERVER_NAME"]
        if _truthy(env.get("HELM_KUBEINSECURE_SKIP_TLS_VERIFY")):
            c.verify_ssl = False

    apply_overrides(cfg)
    # The kubeconfig loader re-applies its own token (and host) before every request through this
    # hook; Helm's variables must keep winning.
    hook = getattr(cfg, "refresh_api_key_hook", None)
    if hook is not None:
        if token:
            cfg.refresh_api_key_hook = None
        else:
            def refresh(c: Any, _hook: Any = hook) -> None:
                _hook(c)
                apply_overrides(c)

            cfg.refresh_api_key_hook = refresh
    if context and not have_file and not apiserver:
        raise HubError(f"kube context {context!r} requested but no kubeconfig exists at {kubeconfig}")
    import urllib3

    # One quick retry of the connection only: a dead hub fails fast, a request is never resent.
    cfg.retries = urllib3.Retry(total=1, connect=1, read=0, redirect=0, status=0, other=0)
    cfg.connection_pool_maxsize = 8  # one connection per concurrent watch
    return cfg, namespace, source


class Hub:
    """A connection to the hub: paged lists, gets and watches of plain JSON objects."""

    def __init__(self, settings: ConnectionSettings | None = None, *, configuration: Any = None) -> None:
        from kubernetes import client  # lazy

        self.settings = settings or ConnectionSettings()
        if configuration is None:
            configuration, self.context_namespace, self.source = build_configuration(self.settings)
        else:
            self.context_namespace, self.source = None, "configuration"
        self.configuration = configuration
        self.server = configuration.host
        self.api_client = client.ApiClient(configuration)
        env = self.settings.env
        if env.get("HELM_KUBEASUSER"):
            self.api_client.set_default_header("Impersonate-User", env["HELM_KUBEASUSER"])
        groups = [g for g in (env.get("HELM_KUBEASGROUPS") or "").split(",") if g]
        if len(groups) > 1:
            # The API server wants one Impersonate-Group header per group; the client sends one.
            raise HubError("impersonating several groups (--kube-as-group given more than once) is not "
                           "supported by helm flower: give one group")
        if groups:
            self.api_client.set_default_header("Impersonate-Group", groups[0])
        self.custom = client.CustomObjectsApi(self.api_client)
        self.requests = 0  # HTTP requests made (list pages, gets)

    @property
    def timeout(self) -> tuple[float, float]:
        t = self.settings.request_timeout
        return (min(t, 10.0), t)

    def close(self) -> None:
        try:
            self.api_client.close()
        except Exception:  # noqa: BLE001 - best effort
            pass

    def __enter__(self) -> "Hub":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- error translation ----------------------------------------------------------------

    def translate(self, exc: BaseException, op: Operation) -> HubError:
        from kubernetes.client.exceptions import ApiException
        import urllib3

        if isinstance(exc, HubError):
            return exc
        if isinstance(exc, ApiException):
            return from_api_exception(exc, op, self.server)
        if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
            return from_transport_error(exc, self.server, self.settings.request_timeout)
        return HubError(f"unexpected error while trying to {op.describe()} on {self.server}: "
                        f"{type(exc).__name__}: {exc}")

    # -- requests ---------------------------------------------------------------------------

    def list_pages(
        self,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        prefetch: bool = False,
    ) -> Iterator[tuple[list[dict[str, Any]], str]]:
        """Every page of a list, as (items, list resourceVersion); follows ``continue`` tokens.

        With ``prefetch``, a helper thread requests (and parses) page k+1 while the caller works
        on page k: the same requests, in the same order, one page ahead at most."""
        pages = self._pages(res, namespace, label_selector, field_selector, limit)
        if not prefetch:
            yield from pages
            return
        import queue
        import threading

        box: "queue.Queue[Any]" = queue.Queue(maxsize=1)
        stop = threading.Event()
        end = object()

        def put(item: Any) -> bool:
            while not stop.is_set():
                try:
                    box.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def worker() -> None:
            try:
                for page in pages:
                    if not put(page):
                        return
                put(end)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                put(exc)

        thread = threading.Thread(target=worker, name=f"list-{res.plural}", daemon=True)
        thread.start()
        try:
            while True:
                item = box.get()
                if item is end:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()

    def _pages(self, res: Resource, namespace: str | None, label_selector: str | None,
               field_selector: str | None, limit: int) -> Iterator[tuple[list[dict[str, Any]], str]]:
        op = Operation("list", res.plural, res.group, res.version, namespace if res.namespaced else None)
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"_request_timeout": self.timeout}
            if label_selector:
                kwargs["label_selector"] = label_selector
            if field_selector:
                kwargs["field_selector"] = field_selector
            if limit:
                kwargs["limit"] = limit
            if token:
                kwargs["_continue"] = token
            try:
                self.requests += 1
                if res.group:
                    if res.namespaced and namespace:
                        data = self.custom.list_namespaced_custom_object(res.group, res.version, namespace,
                                                                         res.plural, **kwargs)
                    else:
                        data = self.custom.list_cluster_custom_object(res.group, res.version, res.plural, **kwargs)
                else:
                    data = self._raw_get(res.path(namespace), _query(kwargs))
            except Exception as exc:  # noqa: BLE001 - translated
                raise self.translate(exc, op) from None
            meta = data.get("metadata") or {}
            token = meta.get("continue") or None
            items = data.get("items") or []
            del data
            yield items, str(meta.get("resourceVersion") or "")
            if not token:
                return

    def get(self, res: Resource, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """One object, or None when it does not exist (a resource type that is not served is an error)."""
        op = Operation("get", res.plural, res.group, res.version, namespace if res.namespaced else None, name)
        from kubernetes.client.exceptions import ApiException

        try:
            self.requests += 1
            return self._raw_get(res.path(namespace, name), [])
        except ApiException as exc:
            if exc.status == 404:
                body = _json_or_empty(exc.body)
                if (body.get("details") or {}).get("name"):
                    return None
            raise self.translate(exc, op) from None
        except Exception as exc:  # noqa: BLE001 - translated
            raise self.translate(exc, op) from None

    def get_optional_type(self, res: Resource, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """Like :meth:`get`, but a resource type the hub does not serve (e.g. Routes off OpenShift) is None."""
        try:
            return self.get(res, name, namespace)
        except HubError as err:
            if "does not serve" in err.message:
                return None
            raise

    def _raw_get(self, path: str, query: list[tuple[str, str]]) -> dict[str, Any]:
        url = self.configuration.host + path
        if query:
            from urllib.parse import urlencode

            url += "?" + urlencode(query)
        headers = {"Accept": "application/json"}
        headers.update(self.api_client.default_headers)
        self.api_client.update_params_for_auth(headers, [], ["BearerToken"], path, "GET", None)
        resp = self.api_client.call_api("GET", url, header_params=headers, _request_timeout=self.timeout)
        resp.read()
        if not 200 <= resp.status <= 299:
            from kubernetes.client.exceptions import ApiException

            raise ApiException.from_response(http_resp=resp, body=None, data=None)
        return json.loads(resp.data)

    def watch(
        self,
        res: Resource,
        *,
        resource_version: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = 300,
    ) -> tuple[Any, Iterator[dict[str, Any]]]:
        """A ``kubernetes.watch.Watch`` stream of events from ``resource_version``: (watch, events).

        Events are dicts ``{"type": ADDED|MODIFIED|DELETED|BOOKMARK, "object": {...}}``. A 410
        (the version is too old) raises an ``ApiException`` with status 410 (no silent retry: the
        caller lists again)."""
        from kubernetes import watch as kwatch

        w = kwatch.Watch()
        kwargs: dict[str, Any] = {
            "resource_version": resource_version,
            "timeout_seconds": int(timeout_seconds),
            "allow_watch_bookmarks": True,
            "_request_timeout": (self.timeout[0], timeout_seconds + 15),
        }
        if label_selector:
            kwargs["label_selector"] = label_selector
        if field_selector:
            kwargs["field_selector"] = field_selector
        if res.namespaced and namespace:
            stream = w.stream(self.custom.list_namespaced_custom_object, res.group, res.version, namespace,
                              res.plural, **kwargs)
        else:
            stream = w.stream(self.custom.list_cluster_custom_object, res.group, res.version, res.plural, **kwargs)
        return w, stream


def _query(kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    names = {"label_selector": "labelSelector", "field_selector": "fieldSelector", "limit": "limit",
             "_continue": "continue"}
    return [(names[k], str(v)) for k, v in kwargs.items() if k in names]


def _json_or_empty(body: Any) -> dict[str, Any]:
    try:
        data = json.loads(body) if isinstance(body, (str, bytes)) else body
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def resolve_namespace(args_namespace: str | None, hub: Hub | None = None, env: dict[str, str] | None = None) -> str:
    """-n, else HELM_NAMESPACE, else the kube context's namespace, else ``default`` (Helm's order)."""
    env = env if env is not None else dict(os.environ)
    return args_namespace or env.get("HELM_NAMESPACE") or (hub.context_namespace if hub else None) or "default"
