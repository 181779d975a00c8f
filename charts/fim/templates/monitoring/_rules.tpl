{{/*
The alert groups, shared by the PrometheusRule and the plain rules file deploy/prometheus/fim-alerts.rules.yaml
(scripts/render-prometheus-rules.sh; promtool checks and tests it). Metric names and thresholds: values.monitoring.
*/}}
{{- define "fim.alertGroups" -}}
{{- $m := .Values.monitoring.metrics -}}
{{- $t := .Values.monitoring.thresholds -}}
groups:
  - name: fim.rules
    rules:
      - alert: FimManagerDown
        expr: sum(up{job="{{ $m.managerJob }}"}) == 0 or absent(up{job="{{ $m.managerJob }}"})
        for: {{ $t.managerDownFor }}
        labels:
          severity: critical
        annotations:
          summary: No FIM manager is up
          description: No Fim.Manager pod has been scraped successfully for {{ $t.managerDownFor }}; file events queue up in FIM_EVENTS and no alerts are raised.
      - alert: FimConsumerLagHigh
        expr: max({{ $m.consumerPending }}) > {{ int $t.consumerPending }}
        for: {{ $t.consumerPendingFor }}
        labels:
          severity: warning
        annotations:
          summary: FIM managers are falling behind
          description: '{{ "{{" }} $value {{ "}}" }} events are pending on the fim-managers consumer (threshold {{ int $t.consumerPending }}).'
      - alert: FimAgentSilent
        expr: time() - max by (agent) ({{ $m.agentHeartbeat }}) > {{ int $t.agentSilentSeconds }}
        labels:
          severity: warning
        annotations:
          summary: 'FIM agent {{ "{{" }} $labels.agent {{ "}}" }} sends no heartbeat'
          description: 'Agent {{ "{{" }} $labels.agent {{ "}}" }} last wrote its heartbeat to KV fim-agents {{ "{{" }} $value | humanizeDuration {{ "}}" }} ago (more than {{ int $t.agentSilentSeconds }}s); its files are not monitored.'
      - alert: FimAgentsDisconnected
        expr: max without (instance, pod, container, endpoint) ({{ $m.agents }}{status="disconnected"}) > 0
        for: {{ $t.agentsDisconnectedFor }}
        labels:
          severity: warning
        annotations:
          summary: FIM agents are disconnected
          description: '{{ "{{" }} $value {{ "}}" }} agent(s) sent no heartbeat for longer than Fim:Fleet:DisconnectedAfter; their files are not monitored. `fimctl agents --status disconnected` lists them; `fimctl agents prune` removes nodes that are gone.'
      - alert: FimCriticalFileChanged
        expr: sum by (level) (increase({{ $m.alerts }}{level=~"{{ include "fim.levelRegex" (int $t.criticalLevel) }}"}[5m])) > 0
        labels:
          severity: critical
        annotations:
          summary: 'Critical file change (level {{ "{{" }} $labels.level {{ "}}" }})'
          description: 'FIM raised {{ "{{" }} $value | humanize {{ "}}" }} alert(s) of level {{ "{{" }} $labels.level {{ "}}" }} (>= {{ $t.criticalLevel }}) in the last 5 minutes; see FIM_ALERTS / the SIEM.'
      - alert: FimDeadLettersGrowing
        expr: sum by (reason) (increase({{ $m.deadLetters }}[15m])) > 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: 'FIM events dead-lettered ({{ "{{" }} $labels.reason {{ "}}" }})'
          description: 'Messages keep going to FIM_DEADLETTER with reason {{ "{{" }} $labels.reason {{ "}}" }}; they are not evaluated.'
      - alert: FimOperatorReconcileErrors
        expr: sum by (controller) (increase({{ $m.operatorErrors }}[10m])) > 0
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: 'fim-operator fails to reconcile {{ "{{" }} $labels.controller {{ "}}" }}'
          description: 'The {{ "{{" }} $labels.controller {{ "}}" }} controller has failed reconciles for 10 minutes; check `kubectl describe` of the FimPolicy/FimManagerPool and the operator logs.'
      - alert: FimNodeIntegrityFailed
        expr: max by (node, policy) ({{ $m.nodeIntegrityFailed }}) == 1
        for: 1m
        labels:
          severity: warning
        annotations:
          summary: 'File integrity of node {{ "{{" }} $labels.node {{ "}}" }} changed or failed ({{ "{{" }} $labels.policy {{ "}}" }})'
          description: 'The FimNodeStatus of node {{ "{{" }} $labels.node {{ "}}" }} under policy {{ "{{" }} $labels.policy {{ "}}" }} says changed or error (`kubectl get fimnodestatuses`). Review the alerts, then accept the state with `kubectl annotate fimpolicy <name> fim.io/rebaseline=<node>`, or fix the node.'
{{- end -}}

{{/* Regex matching alert levels from n to 15 (Wazuh-style 0-15). */}}
{{- define "fim.levelRegex" -}}
{{- $levels := list -}}
{{- range $l := untilStep . 16 1 -}}{{- $levels = append $levels (toString $l) -}}{{- end -}}
{{- join "|" $levels -}}
{{- end -}}
