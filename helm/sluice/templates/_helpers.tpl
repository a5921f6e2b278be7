{{/* Names, labels and the pieces every Sluice pod shares. */}}

{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sluice.fullname" -}}
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

{{/* A component's object name: "<fullname>-<component>", kept within 63 characters. */}}
{{- define "sluice.componentName" -}}
{{- printf "%s-%s" (include "sluice.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component -}}
{{- end -}}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sluice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sluice
{{- end -}}

{{/* Call with (dict "root" $ "component" "api"). */}}
{{- define "sluice.componentSelectorLabels" -}}
{{ include "sluice.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sluice.componentLabels" -}}
{{ include "sluice.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sluice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sluice.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Sluice image, pinned by tag and, when given, by digest (which then wins). */}}
{{- define "sluice.image" -}}
{{- $tag := required "image.tag is required: pin the Sluice image to a release tag" .Values.image.tag -}}
{{- if eq $tag "latest" -}}
{{- fail "image.tag=latest moves under a release: pin the Sluice image to a release tag" -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "sluice.existingSecret" -}}
{{- required "existingSecret is required: the name of an existing Secret holding SLUICE_POSTGRES_URL, SLUICE_POSTGRES_WRITER_URL, SLUICE_POSTGRES_READER_URL, SLUICE_REDIS_URL and SLUICE_MONGO_URL (the chart never creates it)" .Values.existingSecret -}}
{{- end -}}

{{- define "sluice.configMapName" -}}
{{- include "sluice.componentName" (dict "root" . "component" "config") -}}
{{- end -}}

{{/*
The environment of one container: the settings ConfigMap, then only the keys of the existing
Secret this component needs (least privilege: the API never sees the owner's URL). A Kafka
client ("kafka" true) also gets the SASL password, when its mechanism has one.
Call with (dict "root" $ "keys" list "optionalKeys" list "extra" list "kafka" bool).
*/}}
{{- define "sluice.env" -}}
{{- $secret := include "sluice.existingSecret" .root -}}
{{- $keys := .keys -}}
{{- if .kafka -}}
{{- $keys = concat $keys (include "sluice.kafkaSecretKeys" .root | fromJsonArray) | uniq -}}
{{- end -}}
envFrom:
  - configMapRef:
      name: {{ include "sluice.configMapName" .root }}
env:
{{- range $keys }}
  - name: {{ . }}
    valueFrom:
      secretKeyRef:
        name: {{ $secret }}
        key: {{ . }}
{{- end }}
{{- range .optionalKeys }}
  - name: {{ . }}
    valueFrom:
      secretKeyRef:
        name: {{ $secret }}
        key: {{ . }}
        optional: true
{{- end }}
{{- with .extra }}
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{/* Pod-level settings every Sluice pod shares: uid 10001 as in the Dockerfile, no token. */}}
{{- define "sluice.podSpecCommon" -}}
serviceAccountName: {{ include "sluice.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .Values.securityContext.runAsUser }}
  runAsGroup: {{ .Values.securityContext.runAsGroup }}
  fsGroup: {{ .Values.securityContext.runAsGroup }}
  seccompProfile:
    type: RuntimeDefault
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{- define "sluice.containerSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .Values.securityContext.runAsUser }}
  runAsGroup: {{ .Values.securityContext.runAsGroup }}
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  privileged: false
  capabilities:
    drop: ["ALL"]
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* The root filesystem is read-only: Python, gunicorn and Scrapy write only under /tmp. */}}
{{- define "sluice.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- end -}}

{{- define "sluice.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Every Sluice pod's volumes: /tmp and, when there is one, the CA bundle. */}}
{{- define "sluice.volumes" -}}
{{ include "sluice.tmpVolume" . }}
{{- include "sluice.caBundleVolume" . }}
{{- end -}}

{{- define "sluice.volumeMounts" -}}
{{ include "sluice.tmpVolumeMount" . }}
{{- include "sluice.caBundleVolumeMount" . }}
{{- end -}}

{{/* Rolls the pods when the settings change, since envFrom is read only at start. */}}
{{- define "sluice.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The most consumers one processor group can keep busy: the partitions of the largest topic it
reads. The normalizer and archiver read sluice.raw.products (6) and sluice.raw.quotes (3), so
6; more replicas would only sit idle in the consumer group.
*/}}
{{- define "sluice.processorPartitions" -}}
{{- $partitions := 0 -}}
{{- range .group.topics -}}
{{- $count := index $.root.Values.kafka.partitions . | default 0 | int -}}
{{- if not $count -}}
{{- fail (printf "processors.%s reads topic %q, which has no partition count in kafka.partitions" $.name .) -}}
{{- end -}}
{{- if gt $count $partitions }}{{ $partitions = $count }}{{ end -}}
{{- end -}}
{{- $partitions -}}
{{- end -}}

{{- /*
The metrics port of a processor, worker pool or state exporter container, and the probes
that use it: /metrics answers while the process's main loop runs, so a wedged process stops
answering and is restarted.
*/ -}}
{{- define "sluice.metricsPortAndProbes" -}}
ports:
  - name: metrics
    containerPort: {{ .Values.metrics.port }}
    protocol: TCP
livenessProbe:
  httpGet:
    path: /metrics
    port: metrics
  initialDelaySeconds: 10
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 6
readinessProbe:
  httpGet:
    path: /metrics
    port: metrics
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}

{{- /*
Connection security: the combinations sluice/connections.py refuses fail the render here, with
the value to change, instead of crash-looping every pod.
*/ -}}
{{- define "sluice.checkConnections" -}}
{{- $kafka := .Values.config.kafka -}}
{{- $mechanism := $kafka.saslMechanism | default "" | upper -}}
{{- if and $mechanism (not (hasPrefix "SASL_" $kafka.securityProtocol)) -}}
{{- fail (printf "config.kafka.saslMechanism=%s needs config.kafka.securityProtocol SASL_SSL (or SASL_PLAINTEXT), not %s" $mechanism $kafka.securityProtocol) -}}
{{- end -}}
{{- if and (hasPrefix "SASL_" $kafka.securityProtocol) (not $mechanism) -}}
{{- fail (printf "config.kafka.securityProtocol=%s needs config.kafka.saslMechanism (AWS_MSK_IAM or SCRAM-SHA-512)" $kafka.securityProtocol) -}}
{{- end -}}
{{- if eq $mechanism "AWS_MSK_IAM" -}}
{{- if ne $kafka.securityProtocol "SASL_SSL" -}}
{{- fail "config.kafka.saslMechanism=AWS_MSK_IAM works over config.kafka.securityProtocol=SASL_SSL only" -}}
{{- end -}}
{{- if not .Values.config.awsRegion -}}
{{- fail "config.kafka.saslMechanism=AWS_MSK_IAM needs config.awsRegion: MSK IAM tokens are signed for a region" -}}
{{- end -}}
{{- else if $mechanism -}}
{{- if not $kafka.username -}}
{{- fail (printf "config.kafka.saslMechanism=%s needs config.kafka.username (and SLUICE_KAFKA_PASSWORD in existingSecret)" $mechanism) -}}
{{- end -}}
{{- if .Values.keda.enabled -}}
{{- fail (printf "keda.enabled with config.kafka.saslMechanism=%s: the chart gives KEDA's Kafka triggers no password; use AWS_MSK_IAM, or turn KEDA off" $mechanism) -}}
{{- end -}}
{{- end -}}
{{- $bundle := .Values.tls.caBundle -}}
{{- if and $bundle.services (not $bundle.configMap) -}}
{{- fail (printf "tls.caBundle.services=%v needs tls.caBundle.configMap: the ConfigMap holding the CA bundle" $bundle.services) -}}
{{- end -}}
{{- end -}}

{{/* Where the CA bundle is mounted in every Sluice pod (and in Airflow's, by its values). */}}
{{- define "sluice.caBundleDir" -}}/etc/sluice/tls{{- end -}}

{{- define "sluice.caBundlePath" -}}{{ include "sluice.caBundleDir" . }}/ca.pem{{- end -}}

{{- /* The CA file variables of the services that verify against the bundle, as YAML. */ -}}
{{- define "sluice.caFileSettings" -}}
{{- $variables := dict "all" "SLUICE_TLS_CA_FILE" "kafka" "SLUICE_KAFKA_CA_FILE" "postgres" "SLUICE_POSTGRES_CA_FILE" "redis" "SLUICE_REDIS_CA_FILE" "mongo" "SLUICE_MONGO_CA_FILE" -}}
{{- range .Values.tls.caBundle.services }}
{{ index $variables . }}: {{ include "sluice.caBundlePath" $ }}
{{- end }}
{{- end -}}

{{- define "sluice.caBundleVolume" -}}
{{- with .Values.tls.caBundle }}
{{- if .configMap }}
- name: ca-bundle
  configMap:
    name: {{ .configMap }}
    items:
      - key: {{ .key }}
        path: ca.pem
{{- end }}
{{- end }}
{{- end -}}

{{- define "sluice.caBundleVolumeMount" -}}
{{- if .Values.tls.caBundle.configMap }}
- name: ca-bundle
  mountPath: {{ include "sluice.caBundleDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{- /*
The existing Secret's keys a Kafka client needs besides its own: the SASL password, with a
password mechanism (MSK IAM needs none).
*/ -}}
{{- define "sluice.kafkaSecretKeys" -}}
{{- $mechanism := .Values.config.kafka.saslMechanism | default "" | upper -}}
{{- if and $mechanism (ne $mechanism "AWS_MSK_IAM") -}}
{{- list "SLUICE_KAFKA_PASSWORD" | toJson -}}
{{- else -}}
{{- list | toJson -}}
{{- end -}}
{{- end -}}

{{- define "sluice.sourcesConfigMapName" -}}
{{- include "sluice.componentName" (dict "root" . "component" "sources") -}}
{{- end -}}

{{/* Where the migration Job finds the sources. */}}
{{- define "sluice.sourcesPath" -}}/etc/sluice/sources/sources.json{{- end -}}

{{- /* The sources as `sluice source sync` reads them: a JSON list, snake_case keys. */ -}}
{{- define "sluice.sourcesJson" -}}
{{- $sources := list -}}
{{- $names := dict -}}
{{- range $index, $source := .Values.sources -}}
{{- if hasKey $names $source.name -}}
{{- fail (printf "sources[%d]: the name %q is given twice" $index $source.name) -}}
{{- end -}}
{{- $_ := set $names $source.name true -}}
{{- $sources = append $sources (dict "name" $source.name "spider" $source.spider "start_urls" $source.startUrls "enabled" (ternary $source.enabled true (hasKey $source "enabled"))) -}}
{{- end -}}
{{- $sources | toJson -}}
{{- end -}}

{{- define "sluice.kedaKafkaAuthName" -}}
{{- include "sluice.componentName" (dict "root" . "component" "kafka-auth") -}}
{{- end -}}

{{- /* The security metadata of KEDA's Kafka triggers, after the chart's Kafka settings. */ -}}
{{- define "sluice.kedaKafkaSecurity" -}}
{{- $kafka := .Values.config.kafka -}}
{{- if hasSuffix "SSL" $kafka.securityProtocol }}
tls: enable
{{- end }}
{{- if eq ($kafka.saslMechanism | default "" | upper) "AWS_MSK_IAM" }}
sasl: oauthbearer
saslTokenProvider: aws_msk_iam
awsRegion: {{ .Values.config.awsRegion | quote }}
{{- end }}
{{- end -}}
