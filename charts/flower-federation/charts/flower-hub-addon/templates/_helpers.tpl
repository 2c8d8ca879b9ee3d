{{/* AddOnDeploymentConfig names. */}}
{{- define "hubAddon.defaultConfigName" -}}{{ include "flower.name" (list . "supernode") }}{{- end -}}
{{- define "hubAddon.placementConfigName" -}}{{ include "flower.name" (list (index . 0) (printf "supernode-%s" (index . 1))) }}{{- end -}}
{{- define "hubAddon.clusterConfigName" -}}{{ include "flower.name" (list (index . 0) (printf "supernode-cluster-%s" (index . 1))) }}{{- end -}}

{{/* OCM Placement spec fields of a placements[] item (everything but our own keys). */}}
{{- define "hubAddon.placementSpec" -}}
{{- $ctx := index . 0 -}}
{{- $spec := omit (index . 1) "name" "supernode" "rolloutStrategy" -}}
{{- $_ := set $spec "tolerations" (include "hubAddon.tolerations" (list $ctx $spec.tolerations) | fromYamlArray) -}}
{{- toYaml $spec -}}
{{- end -}}

{{/*
hubAddon.tolerations: a placement's own tolerations plus OCM's unreachable and unavailable cluster
taints, tolerated for offlineToleranceSeconds (null: for ever), unless the placement already has a
toleration for that taint. A placement that does not tolerate them drops a cluster as soon as its
agent misses a few lease renewals, and OCM then uninstalls the SuperNode and ClientApps there.
Context: list (root context) (tolerations list or nil).
*/}}
{{- define "hubAddon.tolerations" -}}
{{- $ctx := index . 0 -}}
{{- $out := list -}}
{{- $keys := list -}}
{{- range (index . 1 | default list) -}}
{{- $out = append $out . -}}
{{- $keys = append $keys (.key | default "") -}}
{{- end -}}
{{- range (list "cluster.open-cluster-management.io/unreachable" "cluster.open-cluster-management.io/unavailable") -}}
{{- if not (has . $keys) -}}
{{- $toleration := dict "key" . "operator" "Exists" -}}
{{- if not (kindIs "invalid" $ctx.Values.offlineToleranceSeconds) -}}
{{- $_ := set $toleration "tolerationSeconds" (int64 $ctx.Values.offlineToleranceSeconds) -}}
{{- end -}}
{{- $out = append $out $toleration -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
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

{{/*
The AddOnTemplate is named after its content: <addon>-<first 10 hex digits of its sha256>. OCM's
template agent renders a cluster's manifests from the template its ManagedClusterAddOn's desired
config NAMES (whatever that object holds now), so a template changed in place reached clusters the
rollout strategy had not reached yet (seen on a real hub); a new name per content makes a template
change a config change that OCM rolls out as the placement's rolloutStrategy says. The umbrella
renders the template with this placeholder, hashes it, and substitutes the name.
*/}}
{{- define "hubAddon.templateNamePlaceholder" -}}__FLOWER_ADDON_TEMPLATE_NAME__{{- end -}}


{{/*
hubAddon.clientAppClaimSelector: the claimSelector (YAML) that keeps ClientApps to clusters whose
SuperNode runs a Flower minor of the given placements' SuperNodes (the base SuperNode when the list is
empty); empty when one of them is pinned by digest or tagged with no version (its minor is unknown).
Call: (list ctx claimName placementItems)
*/}}
{{- define "hubAddon.clientAppClaimSelector" -}}
{{- $ctx := index . 0 -}}
{{- $base := $ctx.Values.supernode -}}
{{- $minors := list -}}
{{- range (index . 2 | default (list dict)) -}}
{{- $image := merge (deepCopy ((.supernode | default dict).image | default dict)) (deepCopy $base.image) -}}
{{- $minors = append $minors (include "flower.imageMinor" (list $ctx $image)) -}}
{{- end -}}
{{- if not (has "" $minors) -}}
matchExpressions:
  - key: {{ index . 1 }}
    operator: In
    values: {{ uniq $minors | sortAlpha | toJson }}
{{- end -}}
{{- end -}}
