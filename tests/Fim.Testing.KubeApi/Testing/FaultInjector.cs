namespace Fim.Testing.KubeApi.Testing;

/// <summary>Queued failures: the next matching request(s) get a Status with the given HTTP code instead of being served.</summary>
public sealed class FaultInjector
{
    private sealed class Fault(string verb, string resource, string? group, int statusCode, int times, string? message)
    {
        public string Verb { get; } = verb;

        public string Resource { get; } = resource;

        public string? Group { get; } = group;

        public int StatusCode { get; } = statusCode;

        public string? Message { get; } = message;

        public int Remaining { get; set; } = times;
    }

    private readonly List<Fault> _faults = [];
    private readonly object _gate = new();

    public void Add(string verb, string resource, int statusCode, int times, string? message, string? group)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        lock (_gate)
        {
            _faults.Add(new Fault(verb, resource, group, statusCode, times, message));
        }
    }

    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _faults.Sum(f => f.Remaining);
            }
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    /// <summary>Consumes one matching fault, if any.</summary>
    public (int StatusCode, string? Message)? Take(RequestKey key)
    {
        lock (_gate)
        {
            var f = _faults.FirstOrDefault(f => RequestCounter.Matches(key, f.Verb, f.Resource, f.Group));
            if (f is null)
            {
                return null;
            }

            if (--f.Remaining == 0)
            {
                _faults.Remove(f);
            }

            return (f.StatusCode, f.Message);
        }
    }
}
