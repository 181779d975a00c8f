using Fim.Operator.Tests.Support;

namespace Fim.Operator.Tests;

public sealed class DocsTests
{
    [Fact]
    public void Docs_list_exactly_the_RBAC_rules_the_code_declares()
    {
        var doc = File.ReadAllText(Path.Combine(Fim.Testing.Repository.Root, "docs", "operator.md"));
        var yaml = OperatorPermissions.ToYaml();
        Assert.True(doc.Contains(yaml, StringComparison.Ordinal), "docs/operator.md must contain OperatorPermissions.ToYaml():\n" + yaml);
    }
}
