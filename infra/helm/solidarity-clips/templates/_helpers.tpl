{{/* Names and labels. */}}
{{- define "sc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sc.fullname" -}}
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

{{- define "sc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "sc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: solidarity-clips
{{- end -}}

{{/* Selector labels of one component (server, worker, webhooks): pass (list $ "server"). */}}
{{- define "sc.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "sc.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "sc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sc.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sc.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret of one group (database, redis, s3, keys): its own name, else secrets.name, else <fullname>-secrets. */}}
{{- define "sc.secretName" -}}
{{- $root := index . 0 -}}
{{- $group := index $root.Values.secrets (index . 1) -}}
{{- $group.name | default $root.Values.secrets.name | default (printf "%s-secrets" (include "sc.fullname" $root)) -}}
{{- end -}}

{{/* The lock (and processing lease) of a job, in seconds: the workers' grace period is built on it. */}}
{{- define "sc.lockSeconds" -}}
{{- .Values.config.QUEUE_LOCK_SECONDS | default "60" | int -}}
{{- end -}}

{{/* The ConfigMap and the Secret keys every process reads; pass (list $ "server"|"worker"|"webhooks"). */}}
{{- define "sc.env" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
- name: MONGO_URL
  valueFrom:
    secretKeyRef: { name: {{ include "sc.secretName" (list $root "database") }}, key: {{ $root.Values.secrets.database.mongoUrlKey }} }
- name: REDIS_URL
  valueFrom:
    secretKeyRef: { name: {{ include "sc.secretName" (list $root "redis") }}, key: {{ $root.Values.secrets.redis.urlKey }} }
- name: S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: { name: {{ include "sc.secretName" (list $root "s3") }}, key: {{ $root.Values.secrets.s3.accessKeyIdKey }} }
- name: S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: { name: {{ include "sc.secretName" (list $root "s3") }}, key: {{ $root.Values.secrets.s3.secretAccessKeyKey }} }
- name: AUDIT_HMAC_KEY_FILE
  value: /var/run/secrets/solidarity-clips/audit-hmac-key
- name: TOTP_ENCRYPTION_KEY_FILE
  value: /var/run/secrets/solidarity-clips/totp-encryption-key
{{- if eq $component "server" }}
- name: METRICS_BEARER_TOKEN
  valueFrom:
    secretKeyRef: { name: {{ include "sc.secretName" (list $root "keys") }}, key: {{ $root.Values.secrets.keys.metricsBearerToken }} }
{{- end }}
# Caches some libraries write under $HOME (read-only here).
- name: XDG_CACHE_HOME
  value: /tmp/.cache
{{- end -}}

{{/* The keys mounted as files (AUDIT_HMAC_KEY_FILE, TOTP_ENCRYPTION_KEY_FILE), read-only, readable by the pods' group (fsGroup). */}}
{{- define "sc.keysVolume" -}}
- name: keys
  secret:
    secretName: {{ include "sc.secretName" (list . "keys") }}
    defaultMode: 0440
    items:
      - { key: {{ .Values.secrets.keys.auditHmacKey }}, path: audit-hmac-key }
      - { key: {{ .Values.secrets.keys.totpEncryptionKey }}, path: totp-encryption-key }
{{- end -}}

{{/* The C2PA signing files: the chain and key for the media workers (`full`), the public root alone for the server. */}}
{{- define "sc.signingVolume" -}}
{{- $root := index . 0 -}}
- name: signing
  secret:
    secretName: {{ include "sc.secretName" (list $root "signing") }}
    defaultMode: 0440
    items:
      - { key: {{ $root.Values.secrets.signing.rootKey }}, path: root-cert.pem }
      {{- if index . 1 }}
      - { key: {{ $root.Values.secrets.signing.chainKey }}, path: signing-chain.pem }
      - { key: {{ $root.Values.secrets.signing.keyKey }}, path: signing-key.pem }
      {{- end }}
{{- end -}}

{{- define "sc.podSpecCommon" -}}
serviceAccountName: {{ include "sc.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
