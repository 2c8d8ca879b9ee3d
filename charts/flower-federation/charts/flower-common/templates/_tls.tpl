{{/*
TLS material shared by the SuperLink (hub) and the SuperNodes (managed clusters).

global.tls.mode:
  generate       the chart makes a CA and a SuperLink server certificate.
  certManager    cert-manager issues (and renews) the server certificate. With an empty
                 issuerRef the chart makes its own CA and a CA Issuer backed by it.
  existingSecret the operator provides the Secret (tls.crt, tls.key, ca.crt).
  disabled       plain text (not for production).

Generated keys are ECDSA P-256, as the chart's cert-manager Certificate asks for: as strong as RSA 3072,
and Helm makes one in under a millisecond where an RSA 2048 key took 0.1-0.3 s of every render.
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
{{- $ca = genCAWithKey (printf "%s Flower federation CA" .Release.Name) (int .Values.global.tls.generate.caValidityDays) (genPrivateKey "ecdsa") -}}
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

{{/*
flower.tls.runtimeApiEnabled: the SuperNode's own Runtime API (used by ClientApp SuperExecs)
gets TLS when the chart owns the CA and can sign its certificate.
*/}}
{{- define "flower.tls.runtimeApiEnabled" -}}
{{- if and (include "flower.tls.enabled" .) (include "flower.tls.chartOwnsCA" .) }}true{{ end -}}
{{- end -}}

{{/*
flower.tls.ensureSupernodeCert: .Release.flowerSupernodeTls = {Cert, Key} for the SuperNode's
Runtime API (the same names in every managed cluster: supernode.<agent namespace>.svc). Kept
in a hub Secret and reused as long as that Secret exists, so upgrades do not roll the fleet;
to renew it (it lives global.tls.generate.certValidityDays), delete the Secret and upgrade.
*/}}
{{- define "flower.tls.ensureSupernodeCert" -}}
{{- if not (hasKey .Release "flowerSupernodeTls") -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "flower.name" (list . "supernode-tls")) -}}
{{- $cert := dict -}}
{{- if and $existing $existing.data (index $existing.data "tls.crt") -}}
{{- $cert = dict "Cert" (index $existing.data "tls.crt" | b64dec) "Key" (index $existing.data "tls.key" | b64dec) -}}
{{- else -}}
{{- include "flower.tls.ensureCA" . -}}
{{- $svc := include "flower.supernodeName" . -}}
{{- $ns := include "flower.agentNamespace" . -}}
{{- $dns := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) "localhost" -}}
{{- $generated := genSignedCertWithKey $svc (list "127.0.0.1") $dns (int .Values.global.tls.generate.certValidityDays) .Release.flowerTlsCA (genPrivateKey "ecdsa") -}}
{{- $cert = dict "Cert" $generated.Cert "Key" $generated.Key -}}
{{- end -}}
{{- $_ := set .Release "flowerSupernodeTls" $cert -}}
{{- end -}}
{{- end -}}

{{/*
flower.superexecAuth.ensure: .Release.flowerSuperexecAuth = {serverapp, clientapp}: the shared
secrets between SuperLink and ServerApp SuperExec, and between each SuperNode and its ClientApp
SuperExecs (Flower's --superexec-auth-secret-file). Kept in a hub Secret across upgrades.
*/}}
{{- define "flower.superexecAuth.ensure" -}}
{{- if not (hasKey .Release "flowerSuperexecAuth") -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "flower.name" (list . "superexec-auth")) -}}
{{- $secrets := dict "serverapp" (randAlphaNum 48) "clientapp" (randAlphaNum 48) -}}
{{- if and $existing $existing.data -}}
{{- range $key := list "serverapp" "clientapp" -}}
{{- with index $existing.data $key -}}{{- $_ := set $secrets $key (b64dec .) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- $_ := set .Release "flowerSuperexecAuth" $secrets -}}
{{- end -}}
{{- end -}}

{{- define "flower.superexecAuth.enabled" -}}
{{- if .Values.global.superexecAuth.enabled }}true{{ end -}}
{{- end -}}
