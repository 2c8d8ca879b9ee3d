{{/*
hubAddon.clusterManagementAddOn: the addon, whose default AddOnTemplate is the content-named one the
umbrella just rendered (see hubAddon.templateNamePlaceholder). Context: the umbrella's dict plus
templateName.
*/}}
{{- define "hubAddon.clusterManagementAddOn" -}}
apiVersion: addon.open-cluster-management.io/v1alpha1
kind: ClusterManagementAddOn
metadata:
  name: {{ include "flower.addonName" . }}
  labels:
    {{- include "flower.labels" (list . "supernode") | nindent 4 }}
    # Cluster-scoped: says which release namespace owns it.
    flower.ai/release-namespace: {{ .Release.Namespace }}
  annotations:
    # The hub's addon manager installs the agents (template addons need it).
    addon.open-cluster-management.io/lifecycle: addon-manager
    # Where the SuperNodes run on the managed clusters (another release must not use it: checks.yaml).
    flower.ai/agent-namespace: {{ include "flower.agentNamespace" . }}
spec:
  addOnMeta:
    displayName: {{ .Values.displayName | quote }}
    description: {{ printf "Flower %s SuperNode of the federation %s/%s" .Values.global.flower.version .Release.Namespace .Release.Name | quote }}
  supportedConfigs:
    - group: addon.open-cluster-management.io
      resource: addontemplates
      defaultConfig:
        name: {{ .templateName }}
    - group: addon.open-cluster-management.io
      resource: addondeploymentconfigs
      defaultConfig:
        name: {{ include "hubAddon.defaultConfigName" . }}
        namespace: {{ .Release.Namespace }}
  installStrategy:
    type: {{ .Values.installStrategy }}
    {{- if eq .Values.installStrategy "Placements" }}
    placements:
      {{- range .Values.placements }}
      - name: {{ include "flower.placementName" (list $ .name) }}
        namespace: {{ $.Release.Namespace }}
        configs:
          - group: addon.open-cluster-management.io
            resource: addondeploymentconfigs
            name: {{ include "hubAddon.placementConfigName" (list $ .name) }}
            namespace: {{ $.Release.Namespace }}
        rolloutStrategy:
          {{- toYaml (.rolloutStrategy | default (dict "type" "All")) | nindent 10 }}
      {{- end }}
      {{- /* Last, so that their configs win (see placements.yaml). */}}
      {{- range .Values.clusters }}
      {{- if .nodeConfig }}
      - name: {{ include "flower.clusterPlacementName" (list $ .name) }}
        namespace: {{ $.Release.Namespace }}
        configs:
          - group: addon.open-cluster-management.io
            resource: addondeploymentconfigs
            name: {{ include "hubAddon.clusterConfigName" (list $ .name) }}
            namespace: {{ $.Release.Namespace }}
        rolloutStrategy:
          type: All
      {{- end }}
      {{- end }}
    {{- end }}
{{- end -}}
