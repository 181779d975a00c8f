using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fim.Testing.KubeApi.Schema;

/// <summary>What <see cref="ModelValidator"/> found wrong with one object: schema errors and undeclared fields.</summary>
public sealed record ModelCheck(IReadOnlyList<ModelError> Errors, IReadOnlyList<string> UnknownFields);

/// <summary>One schema error: the field path (<c>spec.template.spec.containers[0].image</c>), the JSON-schema keyword, a message.</summary>
public sealed record ModelError(string Field, string Keyword, string Message);

/// <summary>
/// Validates objects against the Kubernetes OpenAPI schemas (and KEDA's and prometheus-operator's CRDs) with the
/// validators of the npm kubernetes-models family: one long-running <c>node scripts/validate-k8s-models.mjs --serve</c>
/// per test process, shared by every server, one JSON line per object. Models are installed by
/// scripts/fetch-k8s-models.sh into .cache/k8s-models (or <c>FIM_K8S_MODELS_DIR</c>).
/// </summary>
public sealed class ModelValidator : IDisposable
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<ModelValidator?> SharedInstance = new(() => Locate() is { } l ? new ModelValidator(l.Script, l.Models) : null);

    private readonly string _script;
    private readonly string _modelsDir;
    private readonly Lock _gate = new();
    // Controllers re-apply the same objects again and again; one answer per distinct object keeps the single node
    // process (and the request threads waiting for it) out of the way on a busy machine.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ModelCheck?> _answers = new(StringComparer.Ordinal);
    private Process? _node;

    public ModelValidator(string script, string modelsDir)
    {
        _script = script;
        _modelsDir = modelsDir;
    }

    /// <summary>The process-wide validator, or null when node, the script or the models are missing (<see cref="MissingReason"/>).</summary>
    public static ModelValidator? Shared => SharedInstance.Value;

    /// <summary>Why <see cref="Shared"/> is null, or null when it is available.</summary>
    public static string? MissingReason
    {
        get
        {
            if (FindOnPath("node") is null)
            {
                return "node is not on PATH (it runs the kubernetes-models validators)";
            }

            return Locate() is null
                ? "the kubernetes-models validators are not installed: run scripts/fetch-k8s-models.sh (npm kubernetes-models into .cache/k8s-models, or set FIM_K8S_MODELS_DIR)"
                : null;
        }
    }

    /// <summary>Checks one object; null when no model covers its apiVersion/kind.</summary>
    public ModelCheck? Check(JsonObject obj)
    {
        var line = obj.ToJsonString();
        if (_answers.TryGetValue(line, out var known))
        {
            return known;
        }
        lock (_gate)
        {
            if (_answers.TryGetValue(line, out known))
            {
                return known;
            }

            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    var answer = Parse(Exchange(line));
                    if (_answers.Count < 10_000)
                    {
                        _answers[line] = answer;
                    }
                    return answer;
                }
                catch (Exception e) when (attempt == 0 && e is IOException or InvalidOperationException or TimeoutException)
                {
                    Kill(); // a dead or stuck node: start a fresh one once
                }
            }
        }
    }

    private string Exchange(string line)
    {
        var node = _node is { HasExited: false } ? _node : _node = Start();
        node.StandardInput.WriteLine(line);
        node.StandardInput.Flush();
        var read = node.StandardOutput.ReadLineAsync();
        if (!read.Wait(AnswerTimeout))
        {
            throw new TimeoutException($"the kubernetes-models validator gave no answer within {AnswerTimeout.TotalSeconds} s");
        }

        return read.Result ?? throw new IOException("the kubernetes-models validator exited (its stderr is the test output's)");
    }

    private Process Start()
    {
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(_script);
        psi.ArgumentList.Add("--serve");
        psi.ArgumentList.Add(_modelsDir);
        return Process.Start(psi) ?? throw new InvalidOperationException("cannot start node");
    }

    private static ModelCheck? Parse(string answer)
    {
        var o = JsonNode.Parse(answer) as JsonObject ?? throw new InvalidOperationException("bad validator answer: " + answer);
        if (o["failure"] is JsonValue failure)
        {
            throw new InvalidOperationException("the kubernetes-models validator failed: " + failure);
        }

        if (o["known"]?.GetValue<bool>() != true)
        {
            return null;
        }

        var errors = (o["errors"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(e => new ModelError(e["field"]?.GetValue<string>() ?? "", e["keyword"]?.GetValue<string>() ?? "", e["message"]?.GetValue<string>() ?? ""))
            .ToList();
        var unknown = (o["unknown"] as JsonArray ?? []).Select(u => u?.GetValue<string>()).OfType<string>().ToList();
        return new ModelCheck(errors, unknown);
    }

    private void Kill()
    {
        try
        {
            _node?.Kill();
        }
        catch (InvalidOperationException)
        {
        }

        _node?.Dispose();
        _node = null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Kill();
        }
    }

    private static (string Script, string Models)? Locate()
    {
        if (FindOnPath("node") is null)
        {
            return null;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "scripts", "validate-k8s-models.mjs");
            if (!File.Exists(script))
            {
                continue;
            }

            var models = Environment.GetEnvironmentVariable("FIM_K8S_MODELS_DIR") is { Length: > 0 } env ? env : Path.Combine(dir.FullName, ".cache", "k8s-models");
            return File.Exists(Path.Combine(models, "node_modules", "kubernetes-models", "package.json")) ? (script, models) : null;
        }

        return null;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
