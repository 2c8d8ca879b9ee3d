{{/* nginx.conf of the fleet gateway. */}}
{{- define "superlink.gatewayConfig" -}}
{{- $tls := include "flower.tls.enabled" . -}}
# Fleet gateway: only the Fleet API (/v1/fleet/<endpoint>) and /health reach the SuperLink.
# The Control and Runtime APIs share the SuperLink's port; they are refused here.
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr warn;
events {
  worker_connections 1024;
}
http {
  access_log /dev/stdout;
  server_tokens off;
  client_body_temp_path /tmp/client_body;
  proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi;
  scgi_temp_path /tmp/scgi;
  client_max_body_size {{ .Values.gateway.maxBodySize }};
  upstream superlink {
    server {{ include "flower.superlinkServiceName" . }}.{{ .Release.Namespace }}.svc.cluster.local:{{ .Values.port }};
    keepalive 16;
  }
  server {
    {{- if $tls }}
    listen {{ .Values.gateway.port }} ssl;
    ssl_certificate /var/run/flower/tls/tls.crt;
    ssl_certificate_key /var/run/flower/tls/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    {{- else }}
    listen {{ .Values.gateway.port }};
    {{- end }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_read_timeout 300s;
    proxy_send_timeout 300s;
    {{- if $tls }}
    proxy_ssl_trusted_certificate /var/run/flower/ca/ca.crt;
    proxy_ssl_verify on;
    proxy_ssl_name {{ include "flower.superlinkServiceName" . }};
    proxy_ssl_server_name on;
    {{- end }}
    location /v1/fleet/ {
      # The raw request line must be a plain endpoint: no dot segments, no percent-encoding.
      if ($request_uri !~ "^/v1/fleet/[a-z0-9-]+$") {
        return 403 "flower-fleet-gateway: path not allowed\n";
      }
      proxy_pass {{ if $tls }}https{{ else }}http{{ end }}://superlink;
    }
    location = /health {
      proxy_pass {{ if $tls }}https{{ else }}http{{ end }}://superlink;
    }
    location / {
      return 403 "flower-fleet-gateway: path not allowed\n";
    }
  }
}
{{- end -}}
