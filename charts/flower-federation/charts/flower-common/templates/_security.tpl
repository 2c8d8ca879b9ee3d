{{/*
Restricted Pod Security Standard. The official Flower images run as the non-root user 49999.
*/}}
{{- define "flower.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 49999
runAsGroup: 49999
fsGroup: 49999
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "flower.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment every Flower process gets: no telemetry, no update check, writable home. */}}
{{- define "flower.baseEnv" -}}
- name: FLWR_TELEMETRY_ENABLED
  value: "0"
- name: FLWR_DISABLE_UPDATE_CHECK
  value: "1"
- name: FLWR_HOME
  value: /var/lib/flower/home
- name: HOME
  value: /tmp
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
{{- end -}}

{{/* Writable scratch volumes for a read-only root filesystem. */}}
{{- define "flower.scratchVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: flower-home
  mountPath: /var/lib/flower/home
{{- end -}}

{{- define "flower.scratchVolumes" -}}
- name: tmp
  emptyDir: {}
- name: flower-home
  emptyDir: {}
{{- end -}}
