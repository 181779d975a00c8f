using Fim.Operator.Api;

namespace Fim.Operator.Runtime;

/// <summary>Pure helpers for status conditions: lastTransitionTime moves only when the status does.</summary>
public static class Conditions
{
    public static Condition Make(string type, bool status, string reason, string message, long? generation) =>
        new() { Type = type, Status = status ? "True" : "False", Reason = reason, Message = message, ObservedGeneration = generation };

    /// <summary>The desired conditions, each keeping the previous lastTransitionTime when its status did not change.</summary>
    public static List<Condition> Merge(IReadOnlyList<Condition>? previous, IEnumerable<Condition> desired, DateTime now)
    {
        now = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc); // metav1.Time has whole seconds
        var result = new List<Condition>();
        foreach (var c in desired)
        {
            var old = previous?.FirstOrDefault(p => p.Type == c.Type);
            var since = old is not null && old.Status == c.Status && old.LastTransitionTime is { } t ? t : now;
            result.Add(c with { LastTransitionTime = since });
        }

        return result;
    }

    public static Condition? Find(IReadOnlyList<Condition>? conditions, string type) => conditions?.FirstOrDefault(c => c.Type == type);

    public static bool IsTrue(IReadOnlyList<Condition>? conditions, string type) => Find(conditions, type)?.Status == "True";
}
