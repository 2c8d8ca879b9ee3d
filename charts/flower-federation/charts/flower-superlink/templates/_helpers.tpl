{{- define "superlink.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "flower.name" (list . "superlink")) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "superlink.serverAppName" -}}{{ include "flower.name" (list . "serverapp") }}{{- end -}}
{{- define "superlink.pvcName" -}}
{{- .Values.persistence.existingClaim | default (include "flower.name" (list . "superlink-state")) -}}
{{- end -}}

{{/* The SuperLink's command-line arguments (Flower 1.41 and 1.42: one API port). */}}
{{- define "superlink.args" -}}
- --host
- 0.0.0.0
- --port
- {{ .Values.port | quote }}
- --isolation
- process
{{- if .Values.persistence.enabled }}
- --database
- /var/lib/flower/state/state.db
{{- end }}
{{- if not .Values.runtimeDependencyInstallation }}
- --disable-runtime-dependency-installation
{{- end }}
{{- if include "flower.tls.enabled" . }}
- --ssl-certfile
- /var/run/flower/tls/tls.crt
- --ssl-keyfile
- /var/run/flower/tls/tls.key
- --ssl-ca-certfile
- /var/run/flower/ca/ca.crt
{{- if .Values.global.nodeAuth.enabled }}
- --enable-supernode-auth
{{- end }}
{{- else }}
- --insecure
{{- end }}
{{- if include "flower.superexecAuth.enabled" . }}
- --superexec-auth-secret-file
- /var/run/flower/superexec-auth/secret
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The SuperExec shared-secret volume (hub side), mounted at /var/run/flower/superexec-auth. */}}
{{- define "superlink.superexecAuthVolume" -}}
{{- if include "flower.superexecAuth.enabled" . }}
- name: superexec-auth
  secret:
    secretName: {{ include "flower.name" (list . "superexec-auth") }}
    items:
      - {key: serverapp, path: secret}
{{- end }}
{{- end -}}

{{- define "superlink.superexecAuthMount" -}}
{{- if include "flower.superexecAuth.enabled" . }}
- name: superexec-auth
  mountPath: /var/run/flower/superexec-auth
  readOnly: true
{{- end }}
{{- end -}}

{{/* TLS flags of a Flower client (SuperExec) that dials the SuperLink. */}}
{{- define "superlink.clientTlsArgs" -}}
{{- if include "flower.tls.enabled" . }}
- --root-certificates
- /var/run/flower/ca/ca.crt
{{- else }}
- --insecure
{{- end }}
{{- end -}}

{{- define "superlink.probeScheme" -}}
{{- if include "flower.tls.enabled" . }}HTTPS{{ else }}HTTP{{ end -}}
{{- end -}}

{{/* True when the fleet gateway fronts the SuperLink (exposure without path routing, Fleet API only). */}}
{{- define "superlink.gatewayEnabled" -}}
{{- if and (has .Values.exposure.type (list "NodePort" "LoadBalancer" "Route")) (not .Values.exposure.allApis) }}true{{ end -}}
{{- end -}}
{{/* Exposure through an in-cluster proxy straight to the SuperLink: Ingress, or a Route with allApis. */}}
{{- define "superlink.proxiedExposure" -}}
{{- if or (eq .Values.exposure.type "Ingress") (and (eq .Values.exposure.type "Route") .Values.exposure.allApis) }}true{{ end -}}
{{- end -}}

{{/* networkPolicy.ingressControllerFrom as a YAML list; fails the render when it is empty. */}}
{{- define "superlink.ingressControllerPeers" -}}
{{- if not .Values.networkPolicy.ingressControllerFrom -}}
{{- fail (printf "superlink.networkPolicy.ingressControllerFrom: %s exposure reaches the SuperLink through the cluster's ingress controller; name its pods (e.g. a namespaceSelector for the controller's namespace) so that no other pod reaches the SuperLink's API port, which also serves the Control API; or set superlink.networkPolicy.enabled=false" .Values.exposure.type) -}}
{{- end -}}
{{- toYaml .Values.networkPolicy.ingressControllerFrom -}}
{{- end -}}

{{- define "superlink.gatewayName" -}}{{ include "flower.name" (list . "fleet-gateway") }}{{- end -}}

{{/* Fails the render when every API is exposed without the explicit acknowledgement. */}}
{{- define "superlink.checkExposure" -}}
{{- if and .Values.exposure.allApis (not .Values.exposure.acknowledgeUnauthenticatedControlApi) -}}
{{- fail "superlink.exposure.allApis: exposing every API lets managed clusters reach the unauthenticated Control API; set superlink.exposure.acknowledgeUnauthenticatedControlApi=true to accept that, or keep allApis false (Fleet API only)" -}}
{{- end -}}
{{- end -}}
