{{- /*
flower.checkVersion: fails unless global.flower.version is a version of a supported Flower minor
(the table of schemas/flower-versions.yaml, copied into _flower_versions.tpl). A federation runs one
minor: Flower refuses a SuperExec of another major.minor than its SuperLink's or SuperNode's.
*/}}
{{- define "flower.checkVersion" -}}
{{- $version := .Values.global.flower.version | toString }}
{{- $table := include "flower.versionTable" . | fromJson }}
{{- $supported := list }}
{{- range $minor, $entry := $table.minors }}
{{- $supported = append $supported (printf "%s (tested: %s)" $minor $entry.release) }}
{{- end }}
{{- if not (regexMatch "^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]+)?$" $version) }}
{{- fail (printf "global.flower.version: %q is not a Flower version (MAJOR.MINOR.PATCH, e.g. %s)" $version $table.default) }}
{{- end }}
{{- $minor := regexFind "^[0-9]+\\.[0-9]+" $version }}
{{- if not (hasKey $table.minors $minor) }}
{{- fail (printf "global.flower.version: Flower %s is not supported by this chart; supported minors: %s" $version (join ", " (reverse $supported))) }}
{{- end }}
{{- end }}

{{- /*
flower.imageMinor: the Flower major.minor ("1.42") an official image runs: its tag, or
global.flower.version when the tag is empty; "" when the image is pinned by digest or its tag names
no version (helm_flower.flower_versions.parse reads tags the same way). Call: (list $ imageValues)
*/}}
{{- define "flower.imageMinor" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 | default dict -}}
{{- if not $image.digest -}}
{{- $tag := $image.tag | default $root.Values.global.flower.version | toString -}}
{{- if regexMatch "^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?([-+_.].*)?$" $tag -}}
{{- regexFind "[0-9]+\\.[0-9]+" $tag -}}
{{- end -}}
{{- end -}}
{{- end -}}
