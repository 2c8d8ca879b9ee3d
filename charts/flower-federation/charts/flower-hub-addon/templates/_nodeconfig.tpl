{{/*
hubAddon.nodeConfig: a node-config map as Flower's `--node-config` string ('k=v k2="s"', TOML
scalars), JSON-escaped: OCM substitutes addon variables into the manifests' raw JSON.
(`cluster-name` is added by the AddOnTemplate itself: OCM does not substitute variables inside
variable values.)
*/}}
{{- define "hubAddon.nodeConfig" -}}
{{- $config := . -}}
{{- $pairs := list -}}
{{- range $key := keys $config | sortAlpha -}}
{{- $value := index $config $key -}}
{{- if kindIs "string" $value -}}
{{- $value = toJson $value -}}
{{- else if and (kindIs "float64" $value) (eq (floor $value) $value) -}}
{{- $value = int64 $value -}}
{{- end -}}
{{- $pairs = append $pairs (printf "%s=%v" $key $value) -}}
{{- end -}}
{{- join " " $pairs | toJson | trimPrefix "\"" | trimSuffix "\"" -}}
{{- end -}}
