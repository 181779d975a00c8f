using Fim.Core.Model;
using Fim.Core.Policy;

namespace Fim.Core.Tests.Policy;

public class ExamplePolicyTests
{
    [Fact]
    public void Standalone_example_loads_and_compiles()
    {
        var policy = PolicyCompiler.LoadAndCompile(Fim.Testing.Repository.File("examples/agent/policy-standalone.yaml"));

        Assert.Equal("standalone-pci", policy.Name);
        Assert.Equal(["/usr/bin", "/etc"], policy.Rules.Select(r => r.RootDisplay));
        Assert.Contains("pci_dss:11.5", policy.Tags);
        Assert.Contains("pci_dss:10.5.5", policy.Tags);

        var etc = policy.RuleFor("/etc/passwd"u8)!;
        Assert.True(etc.IsExcluded("/etc/mtab"u8));
        Assert.True(etc.IsExcluded("/etc/cups/certs"u8));
        Assert.True(etc.IsExcluded("/etc/ssh/.sshd_config.swp"u8));
        Assert.False(etc.IsExcluded("/etc/passwd"u8));
        Assert.False(etc.IsExcluded("/etc/shadow"u8));
        Assert.Equal(CheckAttributes.Default, etc.Checks);

        var usrBin = policy.RuleFor("/usr/bin/sudo"u8)!;
        Assert.True(usrBin.Checks.HasFlag(CheckAttributes.Xattrs));
        Assert.Equal([HashAlgorithmKind.Sha256, HashAlgorithmKind.Sha512], usrBin.HashKinds);
    }

    [Fact]
    public void Reference_documents_every_policy_key()
    {
        var reference = File.ReadAllText(Fim.Testing.Repository.File("docs/policy.md"));

        foreach (var type in new[] { typeof(PolicySpec), typeof(PathRule), typeof(ScheduleSpec), typeof(ThrottleSpec), typeof(DiffsSpec), typeof(FlappingSpec) })
        {
            foreach (var key in BindableProperties.Of(type).Keys)
            {
                Assert.Contains($"`{key}`", reference);
            }
        }
        foreach (var name in CheckAttributeNames.All)
        {
            Assert.Contains($"`{name}`", reference);
        }
    }
}
