{{/* Names, labels, the shared pod pieces and the TOML renderer. Every
     template takes its labels, env, volumes and security settings from here,
     so no block is repeated per template. */}}

{{- define "tributary.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tributary.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* <fullname>-<suffix>, cut to 52 characters: a CronJob's Jobs append 11. */}}
{{- define "tributary.componentName" -}}
{{- printf "%s-%s" (include "tributary.fullname" .root) .suffix | trunc 52 | trimSuffix "-" }}
{{- end }}

{{- define "tributary.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tributary.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "tributary.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tributary.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component: (dict "root" $ "component" "indexer") */}}
{{- define "tributary.componentLabels" -}}
{{ include "tributary.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tributary.componentSelectorLabels" -}}
{{ include "tributary.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tributary.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tributary.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tributary.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "tributary.configMapName" -}}
{{- include "tributary.componentName" (dict "root" . "suffix" "config") }}
{{- end }}

{{/* Where the ConfigMap is mounted, and the file of the shared config. */}}
{{- define "tributary.configDir" -}}/etc/tributary{{- end }}
{{- define "tributary.configFile" -}}/etc/tributary/config.toml{{- end }}

{{/* Environment variable names the config's *_env fields point at. */}}
{{- define "tributary.qdrantApiKeyEnv" -}}QDRANT_API_KEY{{- end }}
{{- define "tributary.embedderApiKeyEnv" -}}EMBEDDER_API_KEY{{- end }}
{{- define "tributary.kafkaSaslPasswordEnv" -}}KAFKA_SASL_PASSWORD{{- end }}

{{/* ---- TOML ------------------------------------------------------------
     Helm's toToml writes every number as a float (6 -> 6.0), which the
     binary's integer fields refuse; this renderer writes whole numbers as
     integers. A section is a map of scalars, lists and one level of sub-tables
     (kafka.librdkafka_options); null values are left out (the binary's
     default applies). */}}
{{- define "tributary.tomlValue" -}}
{{- $v := . -}}
{{- if kindIs "string" $v -}}{{ toJson $v }}
{{- else if kindIs "bool" $v -}}{{ $v }}
{{- else if kindIs "float64" $v -}}
{{- if eq $v (float64 (int64 $v)) -}}{{ int64 $v }}{{- else -}}{{ $v }}{{- end -}}
{{- else if or (kindIs "int" $v) (kindIs "int64" $v) -}}{{ $v }}
{{- else if kindIs "slice" $v -}}
[{{- range $i, $e := $v }}{{ if $i }}, {{ end }}{{ include "tributary.tomlValue" $e }}{{ end -}}]
{{- else -}}
{{- fail (printf "config: cannot write %v (%s) as TOML" $v (kindOf $v)) -}}
{{- end -}}
{{- end }}

{{/* A whole config map: {section: {key: value | {subkey: value}}}. */}}
{{- define "tributary.toml" -}}
{{- range $i, $section := keys . | sortAlpha }}
{{- $body := get $ $section }}
{{- if kindIs "map" $body }}
{{- if $i }}{{ "\n" }}{{ end -}}
[{{ $section }}]
{{- range $k, $v := $body }}
{{- if and (not (kindIs "map" $v)) (not (kindIs "invalid" $v)) }}
{{ $k }} = {{ include "tributary.tomlValue" $v }}
{{- end }}
{{- end }}
{{- range $k, $v := $body }}
{{- if and (kindIs "map" $v) $v }}
[{{ $section }}.{{ $k }}]
{{- range $sk, $sv := $v }}
{{- if not (kindIs "invalid" $sv) }}
{{ toJson $sk }} = {{ include "tributary.tomlValue" $sv }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The shared config plus what the secret references imply: a *_env field
     is set exactly when its Secret is referenced. */}}
{{- define "tributary.sharedConfig" -}}
{{- $cfg := deepCopy .Values.config }}
{{- if .Values.secrets.qdrantApiKey.name }}
{{- $_ := set $cfg "store" (merge (dict "api_key_env" (include "tributary.qdrantApiKeyEnv" .)) (default (dict) $cfg.store)) }}
{{- end }}
{{- if .Values.secrets.embedderApiKey.name }}
{{- $_ := set $cfg "embedder" (merge (dict "api_key_env" (include "tributary.embedderApiKeyEnv" .)) (default (dict) $cfg.embedder)) }}
{{- end }}
{{- if .Values.secrets.kafkaSaslPassword.name }}
{{- $_ := set $cfg "kafka" (merge (dict "sasl_password_env" (include "tributary.kafkaSaslPasswordEnv" .)) (default (dict) $cfg.kafka)) }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* ConfigMap key of one connector instance's config file. */}}
{{- define "tributary.connectorConfigKey" -}}
{{- printf "connector-%s-%s.toml" .kind .instance }}
{{- end }}

{{/* ---- Pod pieces shared by every workload ---------------------------- */}}

{{/* Environment of every container: log format and the secret references.
     Call with (dict "root" $ "extra" list-of-env-entries). */}}
{{- define "tributary.env" -}}
{{- $root := .root -}}
- name: TRIBUTARY_LOG_FORMAT
  value: json
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.databaseUrl.name: the Secret holding the PostgreSQL URL" $root.Values.secrets.databaseUrl.name }}
      key: {{ $root.Values.secrets.databaseUrl.key }}
{{- with $root.Values.secrets.kafkaSaslPassword }}
{{- if .name }}
- name: {{ include "tributary.kafkaSaslPasswordEnv" $root }}
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- with $root.Values.secrets.qdrantApiKey }}
{{- if .name }}
- name: {{ include "tributary.qdrantApiKeyEnv" $root }}
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- with $root.Values.secrets.embedderApiKey }}
{{- if .name }}
- name: {{ include "tributary.embedderApiKeyEnv" $root }}
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The container fields every workload shares. */}}
{{- define "tributary.containerCommon" -}}
image: {{ include "tributary.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
{{- with .Values.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Volume mounts every container has: the config and a writable /tmp. */}}
{{- define "tributary.volumeMounts" -}}
- name: config
  mountPath: {{ include "tributary.configDir" . }}
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* (dict "root" $ "configMap" name): the config ConfigMap (the release's
     by default; the migrations hook has its own) and a writable /tmp. */}}
{{- define "tributary.volumes" -}}
- name: config
  configMap:
    name: {{ default (include "tributary.configMapName" .root) .configMap }}
- name: tmp
  emptyDir: {}
{{- end }}

{{/* Mount of the embedding model, when it comes from a volume. */}}
{{- define "tributary.modelVolumeMount" -}}
{{- if .Values.model.volume }}
- name: model
  mountPath: {{ .Values.config.embedder.model_dir }}
  readOnly: true
{{- end }}
{{- end }}

{{- define "tributary.modelVolume" -}}
{{- if .Values.model.volume }}
- name: model
  {{- toYaml .Values.model.volume | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod spec fields every workload shares: (dict "root" $ "serviceAccountName" optional). */}}
{{- define "tributary.podCommon" -}}
{{- $sa := default (include "tributary.serviceAccountName" .root) .serviceAccountName -}}
{{- with .root -}}
serviceAccountName: {{ $sa }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod metadata: labels of the component, the pod labels and annotations,
     and the config's checksum so a config change rolls the indexer. */}}
{{- define "tributary.podMetadata" -}}
{{- $root := .root -}}
labels:
  {{- include "tributary.componentLabels" . | nindent 2 }}
  {{- with $root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include "tributary.sharedConfig" $root | sha256sum }}
  {{- with $root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* A Job template's spec for a one-shot tributary command:
     (dict "root" $ "component" "dispatcher" "args" list "job" jobValues
           "extraEnv" list "extraMounts" list "extraVolumes" list) */}}
{{- define "tributary.jobSpec" -}}
{{- $root := .root -}}
backoffLimit: {{ .job.backoffLimit }}
{{- if .job.activeDeadlineSeconds }}
activeDeadlineSeconds: {{ .job.activeDeadlineSeconds }}
{{- end }}
template:
  metadata:
    {{- include "tributary.podMetadata" (dict "root" $root "component" .component) | nindent 4 }}
  spec:
    {{- include "tributary.podCommon" (dict "root" $root "serviceAccountName" .serviceAccountName) | nindent 4 }}
    restartPolicy: {{ default "OnFailure" .restartPolicy }}
    containers:
      - name: {{ .component }}
        {{- include "tributary.containerCommon" $root | nindent 8 }}
        args:
          {{- toYaml .args | nindent 10 }}
        env:
          {{- include "tributary.env" (dict "root" $root "extra" .extraEnv) | nindent 10 }}
        {{- with .job.resources }}
        resources:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        volumeMounts:
          {{- include "tributary.volumeMounts" $root | nindent 10 }}
          {{- with .extraMounts }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
    volumes:
      {{- include "tributary.volumes" (dict "root" $root "configMap" .configMap) | nindent 6 }}
      {{- with .extraVolumes }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
{{- end }}
