{{/*
TLS material shared by the SuperLink (hub) and the SuperNodes (managed clusters).

global.tls.mode:
  generate       the chart makes a CA and a SuperLink server certificate.
  certManager    cert-manager issues (and renews) the server certificate. With an empty
                 issuerRef the chart makes its own CA and a CA Issuer backed by it.
  existingSecret the operator provides the Secret (tls.crt, tls.key, ca.crt).
  disabled       plain text (not for production).

The CA is generated ONCE per render and memoized on .Release, the one object Helm shares
between the umbrella and its subcharts (.Values is copied per subchart). On upgrades the CA
is read back from its Secret with lookup, so it stays stable across `helm upgrade`.
*/}}

{{- define "flower.tls.enabled" -}}
{{- if ne .Values.global.tls.mode "disabled" }}true{{ end -}}
{{- end -}}

{{/* True when the chart owns the CA (generate, or certManager with no issuerRef). */}}
{{- define "flower.tls.chartOwnsCA" -}}
{{- $mode := .Values.global.tls.mode -}}
{{- if or (eq $mode "generate") (and (eq $mode "certManager") (empty .Values.global.tls.certManager.issuerRef)) }}true{{ end -}}
{{- end -}}

{{/*
flower.tls.ensureCA: makes sure .Release.flowerTlsCA holds the CA (a sprig certificate with
Cert and Key; include can only return strings, so callers read it from .Release). Renders nothing.
*/}}
{{- define "flower.tls.ensureCA" -}}
{{- if not (hasKey .Release "flowerTlsCA") -}}
{{- $ca := dict -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "flower.caSecretName" .) -}}
{{- if and $existing $existing.data (index $existing.data "tls.crt") -}}
{{- $ca = buildCustomCert (index $existing.data "tls.crt") (index $existing.data "tls.key") -}}
{{- else -}}
{{- $ca = genCA (printf "%s Flower federation CA" .Release.Name) (int .Values.global.tls.generate.caValidityDays) -}}
{{- end -}}
{{- $_ := set .Release "flowerTlsCA" $ca -}}
{{- end -}}
{{- end -}}

{{/* PEM bundle that SuperNodes and SuperExecs trust. */}}
{{- define "flower.tls.caBundle" -}}
{{- if include "flower.tls.chartOwnsCA" . -}}
{{- include "flower.tls.ensureCA" . -}}
{{- .Release.flowerTlsCA.Cert -}}
{{- else -}}
{{- required (printf "global.tls.caBundle: give the PEM CA certificate that signs the SuperLink certificate (global.tls.mode is %s)" .Values.global.tls.mode) .Values.global.tls.caBundle -}}
{{- end -}}
{{- end -}}

{{/* DNS names and IPs on the SuperLink server certificate. */}}
{{- define "flower.tls.superlinkSANs" -}}
{{- $svc := include "flower.superlinkServiceName" . -}}
{{- $ns := .Release.Namespace -}}
{{- $dns := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) "localhost" -}}
{{- $ips := list "127.0.0.1" -}}
{{- $hosts := concat (list .Values.exposure.host) .Values.global.tls.extraSANs -}}
{{- range $hosts -}}
{{- if . -}}
{{- if regexMatch "^[0-9.]+$|:" . -}}{{- $ips = append $ips . -}}{{- else -}}{{- $dns = append $dns . -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "dns" (uniq $dns) "ips" (uniq $ips)) -}}
{{- end -}}
