using Fim.Testing.KubeApi.Model;
using Fim.Testing.KubeApi.Schema;

namespace Fim.Testing.KubeApi.Http;

internal sealed partial class ApiHandler
{
    private static int _warnedMissing;

    /// <summary>The validator built-in writes go through, as <see cref="KubeApiServerOptions.SchemaValidation"/> asks.</summary>
    private static ModelValidator? SchemaValidator(KubeApiServerOptions options)
    {
        if (options.SchemaValidation == SchemaValidation.Off)
        {
            return null;
        }

        if (ModelValidator.Shared is { } shared)
        {
            return shared;
        }

        var why = ModelValidator.MissingReason ?? "the kubernetes-models validators are not available";
        if (options.SchemaValidation == SchemaValidation.Required)
        {
            throw new ApiError(500, "InternalError", "schema validation is required but unavailable: " + why);
        }

        if (Interlocked.Exchange(ref _warnedMissing, 1) == 0)
        {
            Console.Error.WriteLine("KubeApi double: built-in objects are NOT validated against their schemas: " + why);
        }

        return null;
    }
}
