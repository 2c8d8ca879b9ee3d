{{/*
hubAddon.deploymentConfigs renders the AddOnDeploymentConfigs: one default, one per placement,
one per cluster with its own node-config. They carry what differs between clusters: the
SuperLink address, the SuperNode image and its Flower minor, node-config, resources and node placement.
The umbrella calls it, because the SuperLink address comes from the superlink chart's values.
Context: dict Values (this chart's values) Release Chart endpoint (flower.superlinkEndpoint).
*/}}
{{- define "hubAddon.deploymentConfigs" -}}
{{- $base := .Values.supernode -}}
{{- include "hubAddon.deploymentConfig" (list . (include "hubAddon.defaultConfigName" .) $base dict) }}
{{- if eq .Values.installStrategy "Placements" }}
{{- range .Values.placements }}
{{- $overrides := .supernode | default dict }}
{{ include "hubAddon.deploymentConfig" (list $ (include "hubAddon.placementConfigName" (list $ .name)) (merge (deepCopy $overrides) $base) dict) }}
{{- end }}
{{- end }}
{{- range .Values.clusters }}
{{- if .nodeConfig }}
{{- /* A cluster's own config replaces its placement's: start from that placement's overrides. */}}
{{- $supernode := $base }}
{{- $cluster := . }}
{{- range $.Values.placements }}
{{- if eq .name ($cluster.placement | default "") }}
{{- $supernode = merge (deepCopy (.supernode | default dict)) $base }}
{{- end }}
{{- end }}
{{ include "hubAddon.deploymentConfig" (list $ (include "hubAddon.clusterConfigName" (list $ .name)) $supernode .nodeConfig) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* One AddOnDeploymentConfig. Call: (list ctx name supernodeValues extraNodeConfig) */}}
{{- define "hubAddon.deploymentConfig" -}}
{{- $ctx := index . 0 -}}
{{- $supernode := index . 2 -}}
{{- $nodeConfig := merge (deepCopy (index . 3)) (deepCopy ($supernode.nodeConfig | default dict)) -}}
---
apiVersion: addon.open-cluster-management.io/v1alpha1
kind: AddOnDeploymentConfig
metadata:
  name: {{ index . 1 }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "flower.labels" (list $ctx "supernode") | nindent 4 }}
spec:
  agentInstallNamespace: {{ include "flower.agentNamespace" $ctx }}
  customizedVariables:
    - name: SUPERLINK_ADDRESS
      value: {{ $ctx.endpoint.address | quote }}
    - name: SUPERNODE_IMAGE
      value: {{ include "flower.image" (list $ctx $supernode.image) | quote }}
    - name: NODE_CONFIG
      value: {{ include "hubAddon.nodeConfig" $nodeConfig | quote }}
    - name: FLOWER_MINOR
      value: {{ include "flower.imageMinor" (list $ctx $supernode.image) | default "unknown" | quote }}
  {{- with $supernode.resources }}
  resourceRequirements:
    - containerID: "deployments:supernode:supernode"
      resources:
        {{- toYaml . | nindent 8 }}
  {{- end }}
  {{- with $supernode.nodePlacement }}
  {{- /* OCM's template agent applies the tolerations only when nodeSelector is set (non-nil; seen on
         a real hub, OCM v1.2): an empty nodeSelector selects every node and lets them through. */}}
  nodePlacement:
    {{- toYaml (merge (deepCopy .) (dict "nodeSelector" dict)) | nindent 4 }}
  {{- end }}
  {{- with $supernode.registries }}
  registries:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
