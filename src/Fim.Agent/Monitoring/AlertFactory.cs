using Fim.Contracts;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Rules;

namespace Fim.Agent.Monitoring;

/// <summary>Turns changes into events (with ids unique per agent boot) and events into alerts by the local rules.</summary>
public sealed class AlertFactory(EventOrigin origin, RuleSet rules, AlertContext context, Packages.PackageAwareness? packages = null)
{
    private readonly string _bootId = Guid.CreateVersion7().ToString("N")[..12];
    private long _sequence;

    public FileEvent ToEvent(FileChange change)
    {
        var e = EventRecords.From(change, origin, $"{origin.AgentId}:{_bootId}:{Interlocked.Increment(ref _sequence)}");
        packages?.Annotate(change, e);
        return e;
    }

    /// <summary>
    /// Runs one synthetic change through rules and JSON before the first real one, so the first alert
    /// does not pay for JIT and serializer metadata (hundreds of milliseconds on a busy host).
    /// </summary>
    public static void WarmUp()
    {
        var record = new FileRecord { Path = "/warm-up"u8.ToArray(), Type = FileType.Regular };
        var change = new FileChange(ChangeKind.Modified, record.Path, record, record, ChangedAttributes.Size, DetectionSource.Realtime, DateTimeOffset.UtcNow);
        var factory = new AlertFactory(new EventOrigin("warm-up", "warm-up"), RuleSet.Default, new AlertContext(new Dictionary<string, string>(), null, []));
        var (e, alert) = factory.Judge(change);
        _ = ContractJson.ToUtf8(alert ?? e);
    }

    /// <summary>The event and the alert it raises (null when a rule silences it).</summary>
    public (FileEvent Event, Alert? Alert) Judge(FileChange change)
    {
        var e = ToEvent(change);
        return (e, rules.Evaluate(change, e, context));
    }
}
