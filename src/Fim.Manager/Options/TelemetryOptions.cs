namespace Fim.Manager.Options;

/// <summary>Logs and traces (section Fim:Telemetry).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Fim:Telemetry";

    /// <summary>Serilog minimum level: Verbose, Debug, Information, Warning, Error, Fatal.</summary>
    public string LogLevel { get; set; } = "Information";
    /// <summary>OTLP endpoint (e.g. http://otel-collector:4317); empty: spans are made only if something listens.</summary>
    public string? OtlpEndpoint { get; set; }
}
