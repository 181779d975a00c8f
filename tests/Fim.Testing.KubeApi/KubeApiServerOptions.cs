namespace Fim.Testing.KubeApi;

/// <summary>Settings of a <see cref="KubeApiServer"/>.</summary>
public sealed class KubeApiServerOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>Serve HTTPS with a fresh self-signed certificate for 127.0.0.1 (written into the kubeconfig as its CA).</summary>
    public bool UseTls { get; set; }

    /// <summary>How often a watch with allowWatchBookmarks=true gets a BOOKMARK (the real server: about a minute).</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Watch timeout when the client gives no timeoutSeconds (null: none; the real server picks 30-60 min).</summary>
    public TimeSpan? DefaultWatchTimeout { get; set; }

    /// <summary>Events kept per resource for watches that resume from a resourceVersion; older ones get 410 Gone.</summary>
    public int WatchHistoryCapacity { get; set; } = 1000;

    /// <summary>
    /// Validation of built-in objects against the Kubernetes OpenAPI schemas (npm kubernetes-models, run by node).
    /// Auto: when the models are installed (a warning on stderr otherwise); Required: a 500 on every write without them.
    /// </summary>
    public SchemaValidation SchemaValidation { get; set; } = SchemaValidation.Auto;

    /// <summary>Write ASP.NET Core request logs to the console (for the standalone command).</summary>
    public bool ConsoleLogging { get; set; }
}

/// <summary>Whether built-in objects are validated against their OpenAPI schema (<see cref="KubeApiServerOptions.SchemaValidation"/>).</summary>
public enum SchemaValidation
{
    Auto,
    Required,
    Off,
}
