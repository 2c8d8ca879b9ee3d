{{/* AddOnDeploymentConfig names. */}}
{{- define "hubAddon.defaultConfigName" -}}{{ include "flower.name" (list . "supernode") }}{{- end -}}
{{- define "hubAddon.placementConfigName" -}}{{ include "flower.name" (list (index . 0) (printf "supernode-%s" (index . 1))) }}{{- end -}}
{{- define "hubAddon.clusterConfigName" -}}{{ include "flower.name" (list (index . 0) (printf "supernode-cluster-%s" (index . 1))) }}{{- end -}}

{{/* OCM Placement spec fields of a placements[] item (everything but our own keys). */}}
{{- define "hubAddon.placementSpec" -}}
{{- toYaml (omit . "name" "supernode" "rolloutStrategy") -}}
{{- end -}}

{{/* Cluster sets a release uses: from the placements, or manualClusterSets in Manual mode. */}}
{{- define "hubAddon.clusterSets" -}}
{{- $sets := list -}}
{{- if eq .Values.installStrategy "Placements" -}}
{{- range .Values.placements -}}{{- $sets = concat $sets (.clusterSets | default (list "default")) -}}{{- end -}}
{{- else -}}
{{- $sets = .Values.manualClusterSets -}}
{{- end -}}
{{- toJson (uniq $sets | sortAlpha) -}}
{{- end -}}
