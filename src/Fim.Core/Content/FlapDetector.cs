using Fim.Contracts;
using Fim.Core.Model;
using Fim.Core.Policy;

namespace Fim.Core.Content;

/// <summary>
/// Holds back the events of files that change more than <see cref="FlappingSettings.Changes"/> times within
/// <see cref="FlappingSettings.Window"/> (the baseline still takes every change): the change that crosses the threshold
/// is reported with the count (state "started"), later ones are counted and reported as one summary per window
/// (state "ongoing") until a whole window passes without a change. Nothing is dropped without being counted in a summary.
/// Not thread-safe: the policy's loop owns it.
/// </summary>
public sealed class FlapDetector(FlappingSettings settings, TimeProvider time)
{
    private readonly Dictionary<byte[], State> _states = new(PathComparer.Instance);

    /// <summary>When <see cref="TakeSummaries"/> has something to say; MaxValue when no file is flapping.</summary>
    public DateTimeOffset NextDue { get; private set; } = DateTimeOffset.MaxValue;

    /// <summary>Files currently flapping.</summary>
    public int FlappingCount => _states.Values.Count(s => s.Flapping);

    /// <summary>The changes to report now: the others are held for the next summary.</summary>
    public IReadOnlyList<FileChange> Filter(IReadOnlyList<FileChange> changes)
    {
        var now = time.GetUtcNow();
        var report = new List<FileChange>(changes.Count);
        foreach (var change in changes)
        {
            if (!_states.TryGetValue(change.Path, out var state))
            {
                state = new State();
                _states.Add(change.Path, state);
            }
            state.Recent.Enqueue(now);
            while (state.Recent.Count > 0 && state.Recent.Peek() <= now - settings.Window)
            {
                state.Recent.Dequeue();
            }
            if (state.Flapping)
            {
                state.Held++;
                state.First ??= change;
                state.HeldSince ??= now;
                state.Last = change;
                state.Changed |= change.Changed;
                continue;
            }
            if (state.Recent.Count > settings.Changes)
            {
                state.Flapping = true;
                state.SummaryAt = now + settings.Window;
                NextDue = state.SummaryAt < NextDue ? state.SummaryAt : NextDue;
                report.Add(change with { Flapping = Info(FlappingInfo.Started, state.Recent.Count, state.Recent.Peek()) });
                continue;
            }
            report.Add(change);
        }
        if (_states.Count > 4096)
        {
            Prune(now);
        }
        return report;
    }

    /// <summary>One summary per flapping file whose window is over and that changed in it; files quiet for a whole window settle.</summary>
    public IReadOnlyList<FileChange> TakeSummaries()
    {
        var now = time.GetUtcNow();
        var summaries = new List<FileChange>();
        if (now < NextDue)
        {
            return summaries;
        }
        var next = DateTimeOffset.MaxValue;
        foreach (var (path, state) in _states.ToList())
        {
            if (!state.Flapping)
            {
                continue;
            }
            if (state.SummaryAt > now)
            {
                next = state.SummaryAt < next ? state.SummaryAt : next;
                continue;
            }
            if (state.Held == 0)
            {
                _states.Remove(path); // a whole window without a change: settled
                continue;
            }
            var first = state.First!;
            var last = state.Last!;
            summaries.Add(last with
            {
                Before = first.Before,
                Changed = state.Changed,
                ObservedAt = now,
                DiffInfo = null,
                DiffText = null,
                Flapping = Info(FlappingInfo.Ongoing, state.Held, state.HeldSince!.Value),
            });
            state.Held = 0;
            state.First = state.Last = null;
            state.HeldSince = null;
            state.Changed = ChangedAttributes.None;
            state.SummaryAt = now + settings.Window;
            next = state.SummaryAt < next ? state.SummaryAt : next;
        }
        NextDue = next;
        return summaries;
    }

    private FlappingInfo Info(string state, int changes, DateTimeOffset since) => new()
    {
        State = state,
        Changes = changes,
        WindowSeconds = (long)settings.Window.TotalSeconds,
        Since = since,
    };

    private void Prune(DateTimeOffset now)
    {
        foreach (var (path, state) in _states.ToList())
        {
            if (!state.Flapping && (state.Recent.Count == 0 || state.Recent.Last() <= now - settings.Window))
            {
                _states.Remove(path);
            }
        }
    }

    private sealed class State
    {
        public Queue<DateTimeOffset> Recent { get; } = new();
        public bool Flapping { get; set; }
        public DateTimeOffset SummaryAt { get; set; }
        public int Held { get; set; }
        public DateTimeOffset? HeldSince { get; set; }
        public FileChange? First { get; set; }
        public FileChange? Last { get; set; }
        public ChangedAttributes Changed { get; set; }
    }
}
