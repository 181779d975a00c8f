namespace Fim.Manager.Options;

/// <summary>User rule files (section Fim:Rules), evaluated in order before the default rules.</summary>
public sealed class RulesOptions
{
    public const string Section = "Fim:Rules";

    public List<string> Files { get; set; } = [];
}
