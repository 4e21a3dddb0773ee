{{- define "wharf-admission.webhook" -}}
- name: {{ .name }}.wharf.dev
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: {{ .root.Values.failurePolicy }}
  timeoutSeconds: {{ .root.Values.timeoutSeconds }}
  clientConfig:
    url: {{ printf "%s/admission/%s" (trimSuffix "/" .root.Values.wharf.url) .path | quote }}
    {{- with .root.Values.caBundle }}
    caBundle: {{ . | b64enc }}
    {{- end }}
  rules:
    {{- range .root.Values.rules }}
    - operations: ["CREATE", "UPDATE"]
      apiGroups: {{ toJson .apiGroups }}
      apiVersions: {{ toJson .apiVersions }}
      resources: {{ toJson .resources }}
    {{- end }}
  namespaceSelector:
    {{- if .root.Values.namespaceSelector }}
    {{- toYaml .root.Values.namespaceSelector | nindent 4 }}
    {{- else }}
    matchExpressions:
      - key: kubernetes.io/metadata.name
        operator: NotIn
        values: {{ toJson .root.Values.excludeNamespaces }}
    {{- end }}
{{- end -}}
