using System.Globalization;
using Fim.Testing.KubeApi;

// Standalone: dotnet run --project tests/Fim.Testing.KubeApi -- --port 6443 --kubeconfig /tmp/kubeconfig [--tls] [--log] [--schema-validation required]
var options = new KubeApiServerOptions { Port = 6443 };
string? kubeconfig = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length:
            options.Port = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--kubeconfig" when i + 1 < args.Length:
            kubeconfig = args[++i];
            break;
        case "--tls":
            options.UseTls = true;
            break;
        case "--log":
            options.ConsoleLogging = true;
            break;
        case "--bookmark-seconds" when i + 1 < args.Length:
            options.BookmarkInterval = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture));
            break;
        case "--schema-validation" when i + 1 < args.Length:
            if (!Enum.TryParse<SchemaValidation>(args[++i], ignoreCase: true, out var validation))
            {
                Console.Error.WriteLine($"--schema-validation: auto, required or off, not '{args[i]}'");
                return 2;
            }

            options.SchemaValidation = validation;
            break;
        case "-h" or "--help":
            Console.WriteLine("usage: Fim.Testing.KubeApi [--port N (6443; 0 = any)] [--kubeconfig PATH] [--tls] [--log] [--bookmark-seconds S] [--schema-validation auto|required|off]");
            return 0;
        default:
            Console.Error.WriteLine($"unknown argument: {args[i]} (try --help)");
            return 2;
    }
}

await using var server = new KubeApiServer(options);
await server.StartAsync();
kubeconfig ??= Path.Combine(Path.GetTempPath(), $"fim-kube-api-double-{server.Port}.kubeconfig");
var path = server.WriteKubeconfig(kubeconfig);
Console.WriteLine($"Kubernetes API double listening on {server.Url}");
Console.WriteLine($"kubeconfig: {path}");
Console.WriteLine($"try: kubectl --kubeconfig {path} get namespaces");
Console.WriteLine("---");
Console.Write(server.KubeconfigYaml());
Console.WriteLine("--- (Ctrl+C to stop)");

// The host's console lifetime turns SIGINT/SIGTERM into a graceful stop; wait for that.
await server.Stopping;
return 0;
