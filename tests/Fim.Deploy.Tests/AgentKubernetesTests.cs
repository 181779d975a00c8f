using k8s.Models;

namespace Fim.Deploy.Tests;

/// <summary>agent.kubernetes.enabled: the agent may read pods and nothing else; off, it has no token and no role.</summary>
public sealed class AgentKubernetesTests
{
    [Fact]
    public void Enabled_gives_the_agent_exactly_get_list_watch_on_pods_a_token_and_the_host_pid_namespace()
    {
        var docs = HelmRender.Render("agent.kubernetes.enabled=true");

        var role = (V1ClusterRole)StrictValidation.ParseTyped(docs.Single(d => HelmRender.Id(d) is { Kind: "ClusterRole", Name: "rel-fim-agent-pods" }));
        var rule = Assert.Single(role.Rules);
        Assert.Equal([""], rule.ApiGroups);
        Assert.Equal(["pods"], rule.Resources);
        Assert.Equal(["get", "list", "watch"], rule.Verbs);
        Assert.Null(rule.ResourceNames);

        var binding = (V1ClusterRoleBinding)StrictValidation.ParseTyped(docs.Single(d => HelmRender.Id(d) is { Kind: "ClusterRoleBinding", Name: "rel-fim-agent-pods" }));
        Assert.Equal("rel-fim-agent-pods", binding.RoleRef.Name);
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal(("ServiceAccount", "rel-fim-agent", HelmRender.Namespace), (subject.Kind, subject.Name, subject.NamespaceProperty));

        var ds = (V1DaemonSet)StrictValidation.ParseTyped(docs.Single(d => HelmRender.Id(d) is { Kind: "DaemonSet" }));
        var pod = ds.Spec.Template.Spec;
        Assert.True(pod.AutomountServiceAccountToken);
        Assert.True(pod.HostPID);
        var agent = pod.Containers.Single(c => c.Name == "agent");
        Assert.Contains("SYS_PTRACE", agent.SecurityContext.Capabilities.Add);
        Assert.Contains(agent.Env, e => e.Name == "FIM_Kubernetes__Enabled" && e.Value == "true");
        Assert.Contains(agent.VolumeMounts, m => m.MountPath == "/run/fim-agent");
    }

    [Fact]
    public void Disabled_by_default_leaves_the_agent_without_token_role_or_host_pids()
    {
        var docs = HelmRender.Render();
        Assert.DoesNotContain(docs, d => HelmRender.Id(d).Name == "rel-fim-agent-pods");
        var ds = (V1DaemonSet)StrictValidation.ParseTyped(docs.Single(d => HelmRender.Id(d) is { Kind: "DaemonSet" }));
        Assert.False(ds.Spec.Template.Spec.AutomountServiceAccountToken);
        Assert.NotEqual(true, ds.Spec.Template.Spec.HostPID);
    }
}
