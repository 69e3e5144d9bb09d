{{/* Names, labels, images and the pieces every Gatehouse pod shares. */}}

{{- define "gatehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gatehouse.fullname" -}}
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

{{/* Selector labels of one component: (dict "root" $ "component" "bridge" ["queue" "q"]). */}}
{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with .queue }}
gatehouse/task-queue: {{ . }}
{{- end }}
{{- end -}}

{{- define "gatehouse.labels" -}}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/part-of: gatehouse
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels shared by every pod of the release (the default-deny policy selects them). */}}
{{- define "gatehouse.instanceLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gatehouse.image" -}}
{{- $tag := default .root.Chart.AppVersion .image.tag -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gatehouse.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "gatehouse.bridgeService" -}}
{{- printf "%s-bridge" (include "gatehouse.fullname" .) -}}
{{- end -}}

{{- define "gatehouse.edgeArgoService" -}}
{{- printf "%s-edge-argo" (include "gatehouse.fullname" .) -}}
{{- end -}}

{{/* Resource-name-safe form of a task queue (the schema already keeps queue names DNS-safe). */}}
{{- define "gatehouse.workerName" -}}
{{- printf "%s-worker-%s" (include "gatehouse.fullname" .root) .queue | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The pod security context: the chart-wide one, then the component's. */}}
{{- define "gatehouse.podSecurityContext" -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.podSecurityContext) (default (dict) .extra)) -}}
{{- end -}}

{{/*
Environment every Gatehouse process (bridge, workers) gets: the config file, Temporal (address,
namespace, TLS files, API key), the issuer, and the chart-wide secrets. The loader's overrides:
src/config/load-config.ts.
*/}}
{{- define "gatehouse.commonEnv" -}}
{{- $t := .Values.temporal -}}
- name: GATEHOUSE_CONFIG
  value: /etc/gatehouse/gatehouse.yaml
- name: TEMPORAL_ADDRESS
  value: {{ $t.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ $t.namespace | quote }}
{{- if include "gatehouse.temporalTlsOn" . }}
- name: TEMPORAL_TLS
  value: "true"
{{- with $t.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if $t.tls.ca.secretName }}
- name: TEMPORAL_TLS_CA
  value: /etc/gatehouse/temporal-tls/ca.crt
{{- end }}
{{- if $t.tls.client.secretName }}
- name: TEMPORAL_TLS_CERT
  value: /etc/gatehouse/temporal-tls/tls.crt
- name: TEMPORAL_TLS_KEY
  value: /etc/gatehouse/temporal-tls/tls.key
{{- end }}
{{- end }}
{{- if $t.apiKey.secretName }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $t.apiKey.secretName }}
      key: {{ $t.apiKey.key }}
{{- end }}
- name: GATEHOUSE_JWT_ISSUER
  value: {{ .Values.auth.issuer | quote }}
- name: GATEHOUSE_JWT_AUDIENCE
  value: {{ .Values.auth.audience | quote }}
{{- with .Values.auth.jwksUrl }}
- name: GATEHOUSE_JWKS_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.secretEnv }}
{{- include "gatehouse.secretEnv" . }}
{{- end }}
{{- end -}}

{{/* TLS to Temporal is on when asked for, or when an API key is given (the loader implies it too). */}}
{{- define "gatehouse.temporalTlsOn" -}}
{{- if or .Values.temporal.tls.enabled .Values.temporal.apiKey.secretName -}}true{{- end -}}
{{- end -}}

{{/* secretEnv entries -> env vars read from Secrets, never values. */}}
{{- define "gatehouse.secretEnv" -}}
{{- range . }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- end -}}

{{/*
Volumes every Gatehouse process mounts. One projected volume at /etc/gatehouse holds the config,
the policies (policies/) and Temporal's TLS files (temporal-tls/, mode 0440): mounts nested in a
read-only volume would fail, so nothing else is mounted under /etc/gatehouse. Then /tmp, and the
secretFiles. File modes are decimal (288 = 0440, 292 = 0444): YAML 1.1 and 1.2 parsers read a
leading 0 differently. (dict "root" $ "secretFiles" list)
*/}}
{{- define "gatehouse.commonVolumes" -}}
{{- $root := .root -}}
{{- $t := $root.Values.temporal -}}
- name: config
  projected:
    defaultMode: 292  # 0444
    sources:
      - configMap:
          name: {{ include "gatehouse.fullname" $root }}-config
          items:
            - { key: gatehouse.yaml, path: gatehouse.yaml }
      - configMap:
          name: {{ default (printf "%s-policies" (include "gatehouse.fullname" $root)) $root.Values.policies.existingConfigMap }}
          items:
            {{- range include "gatehouse.policyKeys" $root | fromJsonArray }}
            - { key: {{ . | quote }}, path: {{ printf "policies/%s" . | quote }} }
            {{- end }}
      {{- with $t.tls.ca.secretName }}
      - secret:
          name: {{ . }}
          items:
            - { key: {{ $t.tls.ca.key | quote }}, path: temporal-tls/ca.crt, mode: 288 }
      {{- end }}
      {{- with $t.tls.client.secretName }}
      - secret:
          name: {{ . }}
          items:
            - { key: {{ $t.tls.client.certKey | quote }}, path: temporal-tls/tls.crt, mode: 288 }
            - { key: {{ $t.tls.client.keyKey | quote }}, path: temporal-tls/tls.key, mode: 288 }
      {{- end }}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- range $i, $f := .secretFiles }}
- name: secret-file-{{ $i }}
  secret:
    secretName: {{ $f.secretName }}
    defaultMode: 288  # 0440
    {{- with $f.items }}
    items:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end }}
{{- end -}}

{{- define "gatehouse.commonVolumeMounts" -}}
- name: config
  mountPath: /etc/gatehouse
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- range $i, $f := .secretFiles }}
- name: secret-file-{{ $i }}
  mountPath: {{ $f.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* The policy file names, as a JSON list. */}}
{{- define "gatehouse.policyKeys" -}}
{{- if .Values.policies.existingConfigMap -}}
{{- toJson .Values.policies.keys -}}
{{- else if .Values.policies.files -}}
{{- toJson (keys .Values.policies.files | sortAlpha) -}}
{{- else -}}
{{- $names := list -}}
{{- range $path, $_ := .Files.Glob "files/policies/*" -}}
{{- $names = append $names (base $path) -}}
{{- end -}}
{{- toJson ($names | sortAlpha) -}}
{{- end -}}
{{- end -}}

{{/*
The config, with what the chart derives: the edge's Argo door when it is on, and the steps' /proc
from the sandbox pod's procMount (a masked /proc cannot be mounted again: steps share it).
*/}}
{{- define "gatehouse.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $ci := default (dict) $config.ci -}}
{{- $sandbox := default (dict) $ci.sandbox -}}
{{- if not $sandbox.proc -}}
{{- $_ := set $sandbox "proc" (ternary "private" "shared" (eq .Values.workers.sandbox.procMount "Unmasked")) -}}
{{- end -}}
{{- $_ := set $ci "sandbox" $sandbox -}}
{{- $_ := set $config "ci" $ci -}}
{{- if .Values.edge.argo.enabled -}}
{{- $ci := default (dict) $config.ci -}}
{{- $argo := default (dict) $ci.argo -}}
{{- if not $argo.url -}}
{{- $_ := set $argo "url" (printf "http://%s:%d" (include "gatehouse.edgeArgoService" .) (int .Values.edge.argo.port)) -}}
{{- end -}}
{{- $_ := set $ci "argo" $argo -}}
{{- $_ := set $config "ci" $ci -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* Checksums that roll the pods when what they mount changes. */}}
{{- define "gatehouse.configChecksum" -}}
{{- printf "%s%s" (include "gatehouse.config" .) (toJson .Values.policies) | sha256sum -}}
{{- end -}}
