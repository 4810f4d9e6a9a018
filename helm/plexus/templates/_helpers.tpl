{{/* Chart name, truncated to 63 characters. */}}
{{- define "plexus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; room is left for the longest suffix ("-controller"). */}}
{{- define "plexus.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "plexus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "plexus.labels" -}}
helm.sh/chart: {{ include "plexus.chart" . }}
{{ include "plexus.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: plexus
{{- end }}

{{- define "plexus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "plexus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "plexus.controllerSelectorLabels" -}}
{{ include "plexus.selectorLabels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "plexus.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "plexus.controllerServiceAccount" -}}
{{- default (printf "%s-controller" (include "plexus.fullname" .)) .Values.serviceAccounts.controller.name }}
{{- end }}

{{- define "plexus.workerServiceAccount" -}}
{{- default (printf "%s-worker" (include "plexus.fullname" .)) .Values.serviceAccounts.worker.name }}
{{- end }}

{{- define "plexus.bridgeServiceAccount" -}}
{{- default (printf "%s-bridge" (include "plexus.fullname" .)) .Values.serviceAccounts.bridge.name }}
{{- end }}

{{/* Namespaces of workers and bridges (a list). */}}
{{- define "plexus.workloadNamespaces" -}}
{{- if .Values.workloadNamespaces }}
{{- toJson (uniq .Values.workloadNamespaces) }}
{{- else }}
{{- toJson (list .Release.Namespace) }}
{{- end }}
{{- end }}

{{/* Name of the Secret of a connection ("rabbitmq", "cassandra", "s3", "sftp"), or "" when it has none. */}}
{{- define "plexus.connectionSecret" -}}
{{- $c := index .root.Values.connections .service }}
{{- if $c.existingSecret }}
{{- $c.existingSecret }}
{{- else if (include "plexus.connectionCreated" .) }}
{{- printf "%s-%s" (include "plexus.fullname" .root) .service }}
{{- end }}
{{- end }}

{{/* "true" when the chart creates the Secret of a connection. */}}
{{- define "plexus.connectionCreated" -}}
{{- $c := index .root.Values.connections .service }}
{{- if not $c.existingSecret }}
{{- if or (and (eq .service "rabbitmq") $c.url) (and (eq .service "cassandra") $c.contactPoints) (and (eq .service "s3") $c.accessKeyId) (and (eq .service "sftp") $c.privateKeys) }}true{{ end }}
{{- end }}
{{- end }}

{{/* Restricted Pod Security Standard: container securityContext. */}}
{{- define "plexus.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}
