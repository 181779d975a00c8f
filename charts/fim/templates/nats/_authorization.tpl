{{/* The NATS authorization block for the bundled server: the agent template plus the operator's users. */}}
{{- define "fim.natsAuthorization" -}}
{{- $auth := .Values.nats.bundled.authorization -}}
{{- $data := dict "Agents" $auth.agents "SanSuffix" $auth.sanSuffix "ManagerUsers" $auth.managers "AdminUsers" $auth.admins "Template" .Template -}}
{{- $rendered := tpl (.Files.Get "files/nats/authorization.conf.tmpl") $data -}}
{{- $operators := "" -}}
{{- range $auth.operators }}
{{- $operators = printf "%s    { user: %q\n      permissions: {\n        publish: { allow: [%s] }\n        subscribe: { allow: [\"_INBOX.>\"] }\n      }\n    }\n" $operators . (include "fim.natsOperatorPublish" $) }}
{{- end }}
{{- $marker := "\n  ]\n}" -}}
{{- if not (contains $marker $rendered) -}}
{{- fail "files/nats/authorization.conf.tmpl no longer ends its users list with \"  ]\" and \"}\": update templates/nats/_authorization.tpl" -}}
{{- end -}}
{{- if $operators -}}
{{- replace $marker (printf "\n%s  ]\n}" $operators) $rendered -}}
{{- else -}}
{{- $rendered -}}
{{- end -}}
{{- end -}}

{{/* What the operator does on NATS: owns KV fim-policies, reads KV fim-agents (heartbeats for the policy and node status)
and KV fim-unreviewed-alerts (the managers' counts for the node status),
sends re-baseline requests to agents (fim.agent.*.rebaseline), opens and ends node hold-off windows in KV fim-maintenance,
and publishes pool scaling notifications (fim.notifications.pool-scaled). */}}
{{- define "fim.natsOperatorPublish" -}}
{{- $subjects := list "$KV.fim-policies.>" "$JS.API.INFO" "$JS.API.STREAM.INFO.KV_fim-policies" "$JS.API.STREAM.CREATE.KV_fim-policies" "$JS.API.STREAM.UPDATE.KV_fim-policies" "$JS.API.STREAM.MSG.GET.KV_fim-policies" "$JS.API.DIRECT.GET.KV_fim-policies.>" "$JS.API.STREAM.INFO.KV_fim-agents" "$JS.API.STREAM.CREATE.KV_fim-agents" "$JS.API.CONSUMER.CREATE.KV_fim-agents" "$JS.API.CONSUMER.CREATE.KV_fim-agents.>" "$JS.API.CONSUMER.DELETE.KV_fim-agents.>" "$JS.API.DIRECT.GET.KV_fim-agents.>" "$JS.FC.KV_fim-agents.>" "$JS.API.STREAM.INFO.KV_fim-unreviewed-alerts" "$JS.API.STREAM.CREATE.KV_fim-unreviewed-alerts" "$JS.API.CONSUMER.CREATE.KV_fim-unreviewed-alerts" "$JS.API.CONSUMER.CREATE.KV_fim-unreviewed-alerts.>" "$JS.API.CONSUMER.DELETE.KV_fim-unreviewed-alerts.>" "$JS.FC.KV_fim-unreviewed-alerts.>" "$KV.fim-maintenance.>" "$JS.API.STREAM.INFO.KV_fim-maintenance" "$JS.API.STREAM.CREATE.KV_fim-maintenance" "$JS.API.STREAM.MSG.GET.KV_fim-maintenance" "$JS.API.DIRECT.GET.KV_fim-maintenance" "$JS.API.DIRECT.GET.KV_fim-maintenance.>" "$JS.API.CONSUMER.CREATE.KV_fim-maintenance" "$JS.API.CONSUMER.CREATE.KV_fim-maintenance.>" "$JS.API.CONSUMER.DELETE.KV_fim-maintenance.>" "$JS.FC.KV_fim-maintenance.>" "fim.notifications.pool-scaled" "fim.agent.*.rebaseline" -}}
{{- $quoted := list -}}
{{- range $subjects }}{{ $quoted = append $quoted (quote .) }}{{ end -}}
{{- join ", " $quoted -}}
{{- end -}}
