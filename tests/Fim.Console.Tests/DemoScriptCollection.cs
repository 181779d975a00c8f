namespace Fim.Console.Tests;

/// <summary>The demo script's test runs after the others, alone.</summary>
[CollectionDefinition(DemoScriptTests.Name, DisableParallelization = true)]
public sealed class DemoScriptCollection;
