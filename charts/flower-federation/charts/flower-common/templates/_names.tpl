{{/*
Object names. Every name starts with the release name so that two federations can live
side by side on one hub. Names longer than Kubernetes allows fail the render with the fix,
instead of being truncated into collisions.
*/}}

{{/* flower.name: "<release>-<suffix>", at most 63 characters. Call: (list $ "suffix") */}}
{{- define "flower.name" -}}
{{- $root := index . 0 -}}
{{- $name := printf "%s-%s" $root.Release.Name (index . 1) -}}
{{- include "flower.checkLength" (list $name 63) -}}
{{- end -}}

{{- define "flower.checkLength" -}}
{{- $name := index . 0 -}}
{{- $max := index . 1 -}}
{{- if gt (len $name) $max -}}
{{- fail (printf "name %q has %d characters, Kubernetes allows %d: use a shorter release or item name" $name (len $name) $max) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{/* The OCM addon name; also part of the label key feature.open-cluster-management.io/addon-<name> (<= 57). */}}
{{- define "flower.addonName" -}}
{{- $name := .Values.global.addon.name | default (printf "flower-%s" .Release.Name) -}}
{{- include "flower.checkLength" (list $name 57) -}}
{{- end -}}

{{/* Namespace on every managed cluster that holds the SuperNode and the ClientApp SuperExecs. */}}
{{- define "flower.agentNamespace" -}}
{{- $name := .Values.global.managedCluster.namespace | default (printf "flower-%s" .Release.Name) -}}
{{- include "flower.checkLength" (list $name 63) -}}
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
