{{- /* Egress to NATS: the bundled pods, or the external server's CIDRs/port. */}}
{{- define "fim.natsEgress" -}}
{{- if eq .Values.nats.mode "bundled" }}
- to:
    - podSelector:
        matchLabels:
          {{- include "fim.selector" (list . "nats") | nindent 10 }}
  ports:
    - { protocol: TCP, port: 4222 }
{{- else }}
- ports:
    - { protocol: TCP, port: {{ .Values.nats.external.port }} }
  {{- with .Values.nats.external.cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}
{{- end -}}
{{- define "fim.dnsEgress" -}}
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - { protocol: UDP, port: 53 }
    - { protocol: TCP, port: 53 }
{{- end -}}
{{- define "fim.promIngress" -}}
- from:
    - namespaceSelector:
        matchLabels:
          {{- toYaml .ctx.Values.networkPolicies.prometheusNamespaceSelector | nindent 10 }}
  ports:
    - { protocol: TCP, port: {{ .port }} }
{{- end -}}
