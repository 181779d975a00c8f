namespace Fim.Agent.Monitoring;

/// <summary>What one scan did, for heartbeats and logs.</summary>
public sealed record ScanReport(string Policy, string Reason, DateTimeOffset FinishedAt, long Entries, int Changes, TimeSpan Duration, bool Committed);
