{{/*
Object names (README.md "Install on a hub" has the table; plugin/src/helm_flower/naming.py computes
the same names, tests/charts/test_names.py proves both agree and pins the names of a fixed render).

Every name is readable first: "<release>-<item>" for the objects in the release namespace; names that
must be unique on the whole hub or on every managed cluster (the addon, the agent namespace, the
ClusterRole, the ManifestWorks OCM names after a ManifestWorkReplicaSet) carry the release namespace
too. A name longer than its limit is shortened by flower.fitName, the ONE place that shortens: its
first characters, "-" and 8 hex digits of the sha256 of "<namespace>/<release>/<item>", so it is
stable across upgrades and unique per (namespace, release, item). Any release name (Helm allows 53
characters) in any namespace renders; only a ClientApp in a namespace of 53 or more characters has
no room left under OCM's label limit (flower.clientAppWorkName says so).
*/}}

{{/*
flower.fitName: the name itself when it has at most max characters, else its first max-9
characters (a trailing "-" dropped), "-" and the first 8 hex digits of sha256(key).
Call: (list name max key). Fails when max leaves no room for a prefix (max < 10).
*/}}
{{- define "flower.fitName" -}}
{{- $name := index . 0 -}}
{{- $max := int (index . 1) -}}
{{- if le (len $name) $max -}}
{{- $name -}}
{{- else if lt $max 10 -}}
{{- fail (printf "name %q cannot be shortened to %d characters (a shortened name needs at least 10: a prefix, \"-\" and an 8-digit hash)" $name $max) -}}
{{- else -}}
{{- printf "%s-%s" (trunc (sub $max 9 | int) $name | trimSuffix "-") (index . 2 | sha256sum | trunc 8) -}}
{{- end -}}
{{- end -}}

{{/* flower.nameKey: what flower.fitName hashes. Call: (list $ "item") */}}
{{- define "flower.nameKey" -}}
{{- $root := index . 0 -}}
{{- printf "%s/%s/%s" $root.Release.Namespace $root.Release.Name (index . 1) -}}
{{- end -}}

{{/* flower.name: "<release>-<item>", at most 63 characters (shortened to fit). Call: (list $ "item") */}}
{{- define "flower.name" -}}
{{- $root := index . 0 -}}
{{- $item := index . 1 -}}
{{- include "flower.fitName" (list (printf "%s-%s" $root.Release.Name $item) 63 (include "flower.nameKey" (list $root $item))) -}}
{{- end -}}

{{/* An explicit name (an override in values) is used as given: it must fit. Call: (list name max "values.path") */}}
{{- define "flower.checkLength" -}}
{{- $name := index . 0 -}}
{{- $max := index . 1 -}}
{{- if gt (len $name) $max -}}
{{- fail (printf "%s: %q has %d characters, at most %d are allowed: shorten it, or leave it empty for a name the chart fits itself" (index . 2) $name (len $name) $max) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{/*
flower.scopedName: "flower-<release>-<namespace>", for names that must be unique on the whole hub
and on every managed cluster (the addon, the agent namespace). Call: (list $ max "item")
*/}}
{{- define "flower.scopedName" -}}
{{- $root := index . 0 -}}
{{- include "flower.fitName" (list (printf "flower-%s-%s" $root.Release.Name $root.Release.Namespace) (index . 1) (include "flower.nameKey" (list $root (index . 2)))) -}}
{{- end -}}

{{/*
The OCM addon name (cluster-scoped: the ClusterManagementAddOn, the ManagedClusterAddOns, the
AddOnTemplate <addon>-<hash>); also in the label key feature.open-cluster-management.io/addon-<name>,
whose name part allows 63, so at most 57.
*/}}
{{- define "flower.addonName" -}}
{{- if .Values.global.addon.name -}}
{{- include "flower.checkLength" (list .Values.global.addon.name 57 "global.addon.name") -}}
{{- else -}}
{{- include "flower.scopedName" (list . 57 "addon") -}}
{{- end -}}
{{- end -}}

{{/* Namespace on every managed cluster that holds the SuperNode and the ClientApp SuperExecs. */}}
{{- define "flower.agentNamespace" -}}
{{- if .Values.global.managedCluster.namespace -}}
{{- include "flower.checkLength" (list .Values.global.managedCluster.namespace 63 "global.managedCluster.namespace") -}}
{{- else -}}
{{- include "flower.scopedName" (list . 63 "agent-namespace") -}}
{{- end -}}
{{- end -}}

{{/*
Cluster-scoped RBAC of the release: "<addon>-<item>", the addon being global.addon.name or
"flower-<release>-<namespace>" (before either is shortened). Call: (list $ "item")
*/}}
{{- define "flower.clusterRbacName" -}}
{{- $root := index . 0 -}}
{{- $base := $root.Values.global.addon.name | default (printf "flower-%s-%s" $root.Release.Name $root.Release.Namespace) -}}
{{- include "flower.fitName" (list (printf "%s-%s" $base (index . 1)) 63 (include "flower.nameKey" (list $root (printf "cluster-%s" (index . 1))))) -}}
{{- end -}}

{{/*
flower.clientAppWorkName: the ManifestWorkReplicaSet of ClientApp A, "<release>-clientapp-A-<namespace>".
OCM names the ManifestWork it creates in each cluster namespace after it (so it carries the release
namespace: two releases' ClientApps meet there) and labels that work with
work.open-cluster-management.io/manifestworkreplicaset=<namespace>.<name>, a label value of at most
63 characters: the name gets what the namespace leaves. Call: (list $ "A")
*/}}
{{- define "flower.clientAppWorkName" -}}
{{- $root := index . 0 -}}
{{- $app := index . 1 -}}
{{- $ns := $root.Release.Namespace -}}
{{- $room := sub 62 (len $ns) | int -}}
{{- if lt $room 10 -}}
{{- fail (printf "namespace %q has %d characters: OCM labels the ManifestWorks of ClientApp %q with work.open-cluster-management.io/manifestworkreplicaset=<namespace>.<name>, a label value of at most 63 characters, which leaves %d for the name, and a name needs at least 10; install the release into a namespace of at most 52 characters (or set clientApp.enabled=false)" $ns (len $ns) $app (max $room 0)) -}}
{{- end -}}
{{- $item := printf "clientapp-%s" $app -}}
{{- include "flower.fitName" (list (printf "%s-%s-%s" $root.Release.Name $item $ns) $room (include "flower.nameKey" (list $root $item))) -}}
{{- end -}}

{{/* Placement that installs SuperNodes for hubAddon placement item P. Call: (list $ "P") */}}
{{- define "flower.placementName" -}}
{{- include "flower.name" (list (index . 0) (printf "%s" (index . 1))) -}}
{{- end -}}

{{/* Placement that ships ClientApps: same clusters as P, but only where the SuperNode is available. */}}
{{- define "flower.clientAppPlacementName" -}}
{{- include "flower.name" (list (index . 0) (printf "%s-clientapp" (index . 1))) -}}
{{- end -}}

{{/* Placements mode: the Placement that gives cluster C its own AddOnDeploymentConfig. Call: (list $ "C") */}}
{{- define "flower.clusterPlacementName" -}}
{{- include "flower.name" (list (index . 0) (printf "cluster-%s" (index . 1))) -}}
{{- end -}}

{{/* Placement of every cluster where this release's SuperNode is available (Manual mode, or apps without placements). */}}
{{- define "flower.allSupernodesPlacementName" -}}
{{- include "flower.name" (list . "supernodes") -}}
{{- end -}}

{{- define "flower.superlinkServiceName" -}}{{ include "flower.name" (list . "superlink") }}{{- end -}}
{{- define "flower.caSecretName" -}}{{ include "flower.name" (list . "tls-ca") }}{{- end -}}
{{- define "flower.superlinkTlsSecretName" -}}
{{- if eq .Values.global.tls.mode "existingSecret" -}}
{{- required "global.tls.existingSecret: name the Secret with tls.crt, tls.key and ca.crt (global.tls.mode is existingSecret)" .Values.global.tls.existingSecret -}}
{{- else -}}
{{- include "flower.name" (list . "superlink-tls") -}}
{{- end -}}
{{- end -}}

{{/* Fixed names of the objects on managed clusters (their namespace is per release). */}}
{{/*
The ClusterClaim in which a managed cluster's SuperNode publishes its Flower minor (the ClientApp
Placements select on it). A claim's name is also a claimSelector key, which OCM reads as a label
key's name part: at most 63 characters, so the addon name and "-flower-minor", fitted.
*/}}
{{- define "flower.supernodeMinorClaim" -}}
{{- include "flower.fitName" (list (printf "%s-flower-minor" (include "flower.addonName" .)) 63 (include "flower.nameKey" (list . "supernode-minor-claim"))) -}}
{{- end -}}
{{- define "flower.supernodeName" -}}supernode{{- end -}}
{{- define "flower.caConfigMapName" -}}flower-ca{{- end -}}
{{- define "flower.supernodeTlsSecretName" -}}supernode-runtime-tls{{- end -}}
{{- define "flower.superexecAuthSecretName" -}}flower-superexec-auth{{- end -}}
{{- define "flower.supernodeRuntimePort" -}}9094{{- end -}}

{{/* Label that OCM puts on a ManagedCluster where this release's addon is available. */}}
{{- define "flower.addonAvailableLabel" -}}
feature.open-cluster-management.io/addon-{{ include "flower.addonName" . }}
{{- end -}}

{{/*
flower.superlinkEndpoint: where SuperNodes dial the SuperLink, from the superlink chart's values.
Call: (dict "root" $ "superlink" <superlink values>). Returns JSON {host, port, address, external}.
With no exposure.host, it falls back to the in-hub Service name (reachable from the hub's own
cluster only; NOTES.txt and `helm flower validate` say so).
*/}}
{{- define "flower.superlinkEndpoint" -}}
{{- $root := .root -}}
{{- $sl := .superlink -}}
{{- $exp := $sl.exposure -}}
{{- $svc := include "flower.superlinkServiceName" $root -}}
{{- $host := $exp.host | default (printf "%s.%s.svc.cluster.local" $svc $root.Release.Namespace) -}}
{{- $port := int $sl.port -}}
{{- if and $exp.host (has $exp.type (list "LoadBalancer" "Ingress" "Route")) -}}{{- $port = int $exp.port -}}{{- end -}}
{{- if and $exp.host (eq $exp.type "NodePort") -}}{{- $port = int (required "superlink.exposure.nodePort: NodePort exposure needs a fixed node port (30000-32767) for SuperNodes to dial" $exp.nodePort) -}}{{- end -}}
{{- toJson (dict "host" $host "port" $port "address" (printf "%s:%d" $host $port) "external" (not (empty $exp.host))) -}}
{{- end -}}
