{{/* An OCM addon template variable, e.g. {{CLUSTER_NAME}}, passed through Helm untouched. */}}
{{- define "hubAddon.var" -}}{{ printf "{{%s}}" . }}{{- end -}}

{{/*
hubAddon.addOnTemplate: the AddOnTemplate whose manifests run a SuperNode on each managed
cluster. OCM substitutes {{CLUSTER_NAME}} and the AddOnDeploymentConfig's variables
(SUPERLINK_ADDRESS, SUPERNODE_IMAGE, FLOWER_MINOR, NODE_CONFIG) per cluster. Namespaced manifests name the agent
namespace itself, not {{INSTALL_NAMESPACE}}: the API server validates an embedded manifest's
metadata.namespace as a DNS label and rejects the whole AddOnTemplate otherwise (seen on a real hub);
OCM's namespace decorator sets it to the AddOnDeploymentConfig's agentInstallNamespace anyway, which
is the same name.
Context: dict Values Release Chart endpoint (see hubAddon.deploymentConfigs).
*/}}
{{- define "hubAddon.addOnTemplate" -}}
{{- $ns := include "flower.agentNamespace" . -}}
{{- $name := include "flower.supernodeName" . -}}
{{- $port := include "flower.supernodeRuntimePort" . -}}
{{- $supernode := .Values.supernode -}}
{{- $tls := include "flower.tls.enabled" . -}}
{{- $runtimeTls := include "flower.tls.runtimeApiEnabled" . -}}
{{- $auth := include "flower.superexecAuth.enabled" . -}}
{{- $nodeAuth := .Values.global.nodeAuth.enabled -}}
apiVersion: addon.open-cluster-management.io/v1alpha1
kind: AddOnTemplate
metadata:
  name: {{ include "hubAddon.templateNamePlaceholder" . }}
  labels:
    {{- include "flower.labels" (list . "supernode") | nindent 4 }}
    flower.ai/release-namespace: {{ .Release.Namespace }}
spec:
  addonName: {{ include "flower.addonName" . }}
  {{- if $nodeAuth }}
  {{- include "hubAddon.nodeAuth.registration" . | nindent 2 }}
  {{- end }}
  agentSpec:
    workload:
      manifests:
        - apiVersion: v1
          kind: Namespace
          metadata:
            name: {{ $ns | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
              pod-security.kubernetes.io/enforce: restricted
              pod-security.kubernetes.io/audit: restricted
              pod-security.kubernetes.io/warn: restricted
        # The Flower minor of this cluster's SuperNode, published in the ManagedCluster's status on the
        # hub: the ClientApp Placements select on it, so a ClientApp only lands next to a SuperNode of
        # its minor (Flower refuses a SuperExec of another minor), whatever order the rollouts take.
        - apiVersion: cluster.open-cluster-management.io/v1alpha1
          kind: ClusterClaim
          metadata:
            name: {{ include "flower.supernodeMinorClaim" . | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
          spec:
            value: {{ include "hubAddon.var" "FLOWER_MINOR" | quote }}
        {{- if $tls }}
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: {{ include "flower.caConfigMapName" . }}
            namespace: {{ $ns | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
          data:
            ca.crt: {{ include "flower.tls.caBundle" . | quote }}
        {{- end }}
        {{- if $runtimeTls }}
        {{- include "flower.tls.ensureSupernodeCert" . }}
        - apiVersion: v1
          kind: Secret
          metadata:
            name: {{ include "flower.supernodeTlsSecretName" . }}
            namespace: {{ $ns | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
          type: kubernetes.io/tls
          data:
            tls.crt: {{ .Release.flowerSupernodeTls.Cert | b64enc }}
            tls.key: {{ .Release.flowerSupernodeTls.Key | b64enc }}
        {{- end }}
        {{- if $auth }}
        {{- include "flower.superexecAuth.ensure" . }}
        - apiVersion: v1
          kind: Secret
          metadata:
            name: {{ include "flower.superexecAuthSecretName" . }}
            namespace: {{ $ns | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
          type: Opaque
          data:
            secret: {{ .Release.flowerSuperexecAuth.clientapp | b64enc }}
        {{- end }}
        {{- if $nodeAuth }}
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: {{ include "hubAddon.nodeAuth.configMapName" . }}
            namespace: {{ $ns | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
          data:
            supernode_key.py: {{ .Files.Get "files/node-auth/supernode_key.py" | required "files/node-auth/supernode_key.py is missing from the umbrella chart" | quote }}
        {{- end }}
        - apiVersion: v1
          kind: ServiceAccount
          metadata:
            name: {{ $name }}
            namespace: {{ $ns | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
          automountServiceAccountToken: false
        - apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: {{ $name }}
            namespace: {{ $ns | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
          spec:
            replicas: 1
            strategy:
              # One SuperNode per cluster: never two at once with the same identity.
              type: Recreate
            selector:
              matchLabels:
                {{- include "flower.selectorLabels" (list . "supernode") | nindent 16 }}
            template:
              metadata:
                labels:
                  {{- include "flower.agentLabels" (list . "supernode") | nindent 18 }}
              spec:
                serviceAccountName: {{ $name }}
                automountServiceAccountToken: false
                enableServiceLinks: false
                {{- include "flower.imagePullSecrets" . | nindent 16 }}
                securityContext:
                  {{- include "flower.podSecurityContext" . | nindent 18 }}
                containers:
                  - name: {{ $name }}
                    image: {{ include "hubAddon.var" "SUPERNODE_IMAGE" | quote }}
                    imagePullPolicy: {{ $supernode.pullPolicy }}
                    {{- if $nodeAuth }}
                    # The key launcher converts OCM's client key to Flower's OpenSSH format, then
                    # runs flower-supernode (the image's entrypoint) and restarts it on key rotation.
                    command:
                      {{- include "hubAddon.nodeAuth.launcherCommand" . | nindent 22 }}
                    {{- end }}
                    args:
                      - --superlink
                      - {{ include "hubAddon.var" "SUPERLINK_ADDRESS" | quote }}
                      {{- if $tls }}
                      - --root-certificates
                      - /var/run/flower/ca/ca.crt
                      {{- else }}
                      - --insecure
                      {{- end }}
                      - --isolation
                      - process
                      - --host
                      - 0.0.0.0
                      - --port
                      - {{ $port | quote }}
                      - --node-config
                      # OCM substitutes variables in one pass: CLUSTER_NAME must be here, not inside NODE_CONFIG.
                      - {{ printf "cluster-name=%s %s" (toJson (include "hubAddon.var" "CLUSTER_NAME")) (include "hubAddon.var" "NODE_CONFIG") | quote }}
                      {{- if $runtimeTls }}
                      - --ssl-certfile
                      - /var/run/flower/runtime-tls/tls.crt
                      - --ssl-keyfile
                      - /var/run/flower/runtime-tls/tls.key
                      - --ssl-ca-certfile
                      - /var/run/flower/ca/ca.crt
                      {{- end }}
                      {{- if $auth }}
                      - --superexec-auth-secret-file
                      - /var/run/flower/superexec-auth/secret
                      {{- end }}
                      {{- if $nodeAuth }}
                      - --auth-supernode-private-key
                      - {{ include "hubAddon.nodeAuth.sshKeyPath" . }}
                      {{- end }}
                      {{- if not (kindIs "invalid" $supernode.maxRetries) }}
                      - --max-retries
                      - {{ $supernode.maxRetries | toString | quote }}
                      {{- end }}
                      {{- if not (kindIs "invalid" $supernode.maxWaitTime) }}
                      - --max-wait-time
                      - {{ $supernode.maxWaitTime | toString | quote }}
                      {{- end }}
                      {{- range $supernode.extraArgs }}
                      - {{ . | quote }}
                      {{- end }}
                    env:
                      {{- include "flower.baseEnv" . | nindent 22 }}
                    ports:
                      - name: runtime-api
                        containerPort: {{ $port }}
                        protocol: TCP
                    readinessProbe:
                      httpGet: {path: /health, port: runtime-api, scheme: {{ ternary "HTTPS" "HTTP" (not (empty $runtimeTls)) }}}
                      periodSeconds: 10
                    livenessProbe:
                      httpGet: {path: /health, port: runtime-api, scheme: {{ ternary "HTTPS" "HTTP" (not (empty $runtimeTls)) }}}
                      periodSeconds: 20
                      failureThreshold: 3
                    resources:
                      {{- toYaml $supernode.resources | nindent 22 }}
                    securityContext:
                      {{- include "flower.containerSecurityContext" . | nindent 22 }}
                    volumeMounts:
                      {{- include "flower.scratchVolumeMounts" . | nindent 22 }}
                      {{- if $tls }}
                      - name: ca
                        mountPath: /var/run/flower/ca
                        readOnly: true
                      {{- end }}
                      {{- if $runtimeTls }}
                      - name: runtime-tls
                        mountPath: /var/run/flower/runtime-tls
                        readOnly: true
                      {{- end }}
                      {{- if $auth }}
                      - name: superexec-auth
                        mountPath: /var/run/flower/superexec-auth
                        readOnly: true
                      {{- end }}
                      {{- if $nodeAuth }}
                      # OCM's template agent adds the client certificate Secret's mount itself
                      # ({{ include "hubAddon.nodeAuth.mountDir" . }}, every container of the Deployment).
                      - name: node-auth-launcher
                        mountPath: /var/run/flower/node-auth
                        readOnly: true
                      - name: node-key
                        mountPath: /var/run/flower/node-key
                      {{- end }}
                volumes:
                  {{- include "flower.scratchVolumes" . | nindent 18 }}
                  {{- if $tls }}
                  - name: ca
                    configMap:
                      name: {{ include "flower.caConfigMapName" . }}
                  {{- end }}
                  {{- if $runtimeTls }}
                  - name: runtime-tls
                    secret:
                      secretName: {{ include "flower.supernodeTlsSecretName" . }}
                  {{- end }}
                  {{- if $auth }}
                  - name: superexec-auth
                    secret:
                      secretName: {{ include "flower.superexecAuthSecretName" . }}
                  {{- end }}
                  {{- if $nodeAuth }}
                  - name: node-auth-launcher
                    configMap:
                      name: {{ include "hubAddon.nodeAuth.configMapName" . }}
                      defaultMode: 0444
                  # The OpenSSH copy of the SuperNode's private key: memory only, this pod only.
                  - name: node-key
                    emptyDir:
                      medium: Memory
                      sizeLimit: 1Mi
                  {{- end }}
        - apiVersion: v1
          kind: Service
          metadata:
            name: {{ $name }}
            namespace: {{ $ns | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
          spec:
            type: ClusterIP
            selector:
              {{- include "flower.selectorLabels" (list . "supernode") | nindent 14 }}
            ports:
              - name: runtime-api
                port: {{ $port }}
                targetPort: runtime-api
                protocol: TCP
        - apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata:
            name: {{ $name }}
            namespace: {{ $ns | quote }}
            labels:
              {{- include "flower.agentLabels" (list . "supernode") | nindent 14 }}
          spec:
            podSelector:
              matchLabels:
                {{- include "flower.selectorLabels" (list . "supernode") | nindent 16 }}
            policyTypes: [Ingress, Egress]
            ingress:
              # Only this release's ClientApp SuperExecs reach the SuperNode's Runtime API.
              - from:
                  - podSelector:
                      matchLabels:
                        {{- include "flower.selectorLabels" (list . "clientapp") | nindent 24 }}
                ports:
                  - {port: {{ $port }}, protocol: TCP}
            egress:
              # The SuperLink's Fleet API (outside this cluster) and DNS.
              - ports:
                  - {port: {{ .endpoint.port }}, protocol: TCP}
              - ports:
                  - {port: 53, protocol: UDP}
                  - {port: 53, protocol: TCP}
{{- end -}}


{{/*
SuperNode authentication (global.nodeAuth.enabled). Every managed cluster's OCM registration
agent makes an EC P-256 key (it never leaves the cluster) and a CSR for the signer below; the
hub's addon manager approves and signs it with the node-auth CA (CustomSigner registration) and
the agent stores tls.key/tls.crt in Secret <addon>-flower.ai-supernode-auth-client-cert, which
OCM mounts into the Deployment's containers at /managed/flower.ai-supernode-auth. The hub's
registrar (superlink chart, node-auth-registrar.yaml) registers the public key with the SuperLink.
The signer name is the same for every release (OCM picks the CA by the CSR's addon label); it is
kept short because OCM derives a volume name (cert-flower-ai-supernode-auth, <= 63) from it.
*/}}
{{- define "hubAddon.nodeAuth.signerName" -}}flower.ai/supernode-auth{{- end -}}
{{- define "hubAddon.nodeAuth.mountDir" -}}/managed/{{ include "hubAddon.nodeAuth.signerName" . | replace "/" "-" }}{{- end -}}
{{- define "hubAddon.nodeAuth.configMapName" -}}flower-node-auth{{- end -}}
{{- define "hubAddon.nodeAuth.sshKeyPath" -}}/var/run/flower/node-key/id_ecdsa{{- end -}}

{{- define "hubAddon.nodeAuth.registration" -}}
# No subject: OCM's default subject names the cluster
# (system:open-cluster-management:cluster:<cluster>:addon:<addon>:agent:<addon>).
registration:
  - type: CustomSigner
    customSigner:
      signerName: {{ include "hubAddon.nodeAuth.signerName" . }}
      signingCA:
        name: {{ .Values.global.nodeAuth.signingCASecret | default (include "flower.name" (list . "node-auth-ca")) }}
        namespace: {{ .Release.Namespace }}
{{- end -}}

{{- define "hubAddon.nodeAuth.launcherCommand" -}}
- python
- /var/run/flower/node-auth/supernode_key.py
- run
- --client-key
- {{ include "hubAddon.nodeAuth.mountDir" . }}/tls.key
- --ssh-key
- {{ include "hubAddon.nodeAuth.sshKeyPath" . }}
- --
- flower-supernode
{{- end -}}
