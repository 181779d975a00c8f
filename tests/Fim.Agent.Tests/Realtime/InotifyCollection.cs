namespace Fim.Agent.Tests.Realtime;

/// <summary>
/// Realtime tests run alone: some lower host-wide inotify sysctls for a moment, which must not hit a watcher that
/// another test is creating at the same time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InotifyCollection
{
    public const string Name = "inotify";
}
