{{/* Names, labels and images shared by every template. */}}
{{- define "fim.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fim.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "fim.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: fim
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* selector labels of one component: include "fim.selector" (list . "agent") */}}
{{- define "fim.selector" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ include "fim.name" $ctx }}-{{ index . 1 }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* image reference: include "fim.image" (list . .Values.agent.image) */}}
{{- define "fim.image" -}}
{{- $ctx := index . 0 -}}
{{- $img := index . 1 -}}
{{- $repo := $img.repository -}}
{{- if and $ctx.Values.imageRegistry (not (contains "/" $repo)) -}}
{{- $repo = printf "%s/%s" $ctx.Values.imageRegistry $repo -}}
{{- end -}}
{{- printf "%s:%s" $repo (default $ctx.Chart.AppVersion $img.tag) -}}
{{- end -}}

{{- define "fim.natsName" -}}{{ include "fim.fullname" . }}-nats{{- end -}}

{{/* The NATS URL clients use. */}}
{{- define "fim.natsUrl" -}}
{{- if eq .Values.nats.mode "bundled" -}}
tls://{{ include "fim.natsName" . }}.{{ .Release.Namespace }}.svc:4222
{{- else -}}
{{ .Values.nats.external.url }}
{{- end -}}
{{- end -}}

{{/* Secret with the NATS client certificate (ca.crt, tls.crt, tls.key) of the managers / the operator (empty: none). */}}
{{- define "fim.managerNatsTlsSecret" -}}
{{- if eq .Values.nats.mode "bundled" -}}
{{ .Values.nats.bundled.clientTlsSecrets.manager }}
{{- else -}}
{{ .Values.nats.external.tlsSecretName }}
{{- end -}}
{{- end -}}
{{- define "fim.operatorNatsTlsSecret" -}}
{{- if eq .Values.nats.mode "bundled" -}}
{{ .Values.nats.bundled.clientTlsSecrets.operator }}
{{- else -}}
{{ .Values.nats.external.tlsSecretName }}
{{- end -}}
{{- end -}}

{{- define "fim.operatorServiceAccount" -}}{{ include "fim.fullname" . }}-operator{{- end -}}
{{- define "fim.agentServiceAccount" -}}{{ include "fim.fullname" . }}-agent{{- end -}}

{{/* Container security context shared by operator and NATS: non-root, read-only, no capabilities. */}}
{{- define "fim.restrictedContainer" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The Secret with the managers' API certificate: the one given, or the one the chart makes or asks cert-manager for. */}}
{{- define "fim.managerApiTlsSecret" -}}
{{- if .Values.managerPool.tlsSecretName -}}
{{- .Values.managerPool.tlsSecretName -}}
{{- else if .Values.managerPool.tls.enabled -}}
{{- printf "%s-api-tls" .Values.managerPool.name -}}
{{- end -}}
{{- end }}

{{/* The ConfigMap with the managers' Fim__Auth__* settings. */}}
{{- define "fim.managerAuthConfig" -}}
{{- printf "%s-auth" .Values.managerPool.name -}}
{{- end }}

{{- define "fim.managerSinksConfig" -}}
{{- printf "%s-sinks" .Values.managerPool.name -}}
{{- end }}

{{- /* (list PREFIX VALUE WHERE): VALUE's leaves as "PREFIX__key__0__key: value" lines, the environment form of .NET
settings. Keys must be letters, digits and underscores (they become environment variable names); WHERE is VALUE's
path in values.yaml, for the message when one is not. */}}
{{- define "fim.settingsAsEnv" -}}
{{- $prefix := index . 0 }}
{{- $value := index . 1 }}
{{- $where := index . 2 }}
{{- if kindIs "map" $value }}
{{- range $k, $v := $value }}
{{- if not (regexMatch "^[A-Za-z0-9_]+$" $k) }}
{{- fail (printf "%s: the key '%s' is not a setting name (letters, digits and underscores)" $where $k) }}
{{- end }}
{{- include "fim.settingsAsEnv" (list (printf "%s__%s" $prefix $k) $v (printf "%s.%s" $where $k)) }}
{{- end }}
{{- else if kindIs "slice" $value }}
{{- range $i, $v := $value }}
{{- include "fim.settingsAsEnv" (list (printf "%s__%d" $prefix $i) $v (printf "%s[%d]" $where $i)) }}
{{- end }}
{{- else }}
{{ $prefix }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
