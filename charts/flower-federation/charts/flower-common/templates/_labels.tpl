{{/* Standard labels. Call: (list $ "component") */}}
{{- define "flower.labels" -}}
{{- $root := index . 0 -}}
{{ include "flower.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Values.global.flower.version | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: flower-federation
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "flower.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: flower
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Labels for objects shipped to managed clusters (no helm.sh/chart: they are not Helm's objects there). */}}
{{- define "flower.agentLabels" -}}
{{- $root := index . 0 -}}
{{ include "flower.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Values.global.flower.version | quote }}
app.kubernetes.io/part-of: flower-federation
{{- end -}}
