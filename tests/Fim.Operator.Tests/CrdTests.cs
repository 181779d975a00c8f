using System.Net;
using Fim.Operator.Api;
using Fim.Operator.Crds;
using Fim.Operator.Tests.Support;
using k8s.Autorest;

namespace Fim.Operator.Tests;

public sealed class CrdTests
{
    [Fact]
    public void Checked_in_crds_are_what_the_generator_writes_now()
    {
        foreach (var (name, text) in CrdGenerator.Files())
        {
            var path = Path.Combine(Fim.Testing.Repository.Root, "crds", name);
            Assert.True(File.Exists(path), $"crds/{name} is missing: run `dotnet run --project src/Fim.Operator -- generate-crds crds/`");
            Assert.True(File.ReadAllText(path) == text, $"crds/{name} is stale: run `dotnet run --project src/Fim.Operator -- generate-crds crds/`");
        }
    }

    [Fact]
    public void Crds_have_status_subresource_short_names_category_and_printer_columns()
    {
        var policy = CrdGenerator.Policy();
        var v = Assert.Single(policy.Spec.Versions);
        Assert.NotNull(v.Subresources.Status);
        Assert.Equal(["fp"], policy.Spec.Names.ShortNames);
        Assert.Equal(["fim"], policy.Spec.Names.Categories);
        Assert.Equal(["Accepted", "Revision", "Targeted", "Applied", "Age"], v.AdditionalPrinterColumns.Select(c => c.Name));
        var spec = v.Schema.OpenAPIV3Schema.Properties["spec"];
        // paths or sources (or both): the policy compiler says which is missing, the schema cannot say "one of".
        Assert.True(spec.Required is null or { Count: 0 });
        var source = (k8s.Models.V1JSONSchemaProps)spec.Properties["sources"].Items;
        Assert.Equal(["path", "format"], source.Required);
        Assert.Equal(["prowler", "falco", "json"], source.Properties["format"].EnumProperty.Select(e => e.ToString()));
        var paths = spec.Properties["paths"];
        Assert.Equal("^/", ((k8s.Models.V1JSONSchemaProps)paths.Items).Properties["path"].Pattern);
        Assert.Equal(["Desired", "Ready", "Pending", "Available", "Age"], CrdGenerator.Pool().Spec.Versions[0].AdditionalPrinterColumns.Select(c => c.Name));
        Assert.Equal(["fmp"], CrdGenerator.Pool().Spec.Names.ShortNames);
    }

    [Fact]
    public async Task The_api_server_refuses_invalid_resources_by_schema_with_422_naming_the_field()
    {
        await using var h = await OperatorHarness.StartAsync();
        var bad = Samples.Policy("bad", path: "etc");
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => h.Policies.CreateAsync(bad));
        Assert.Equal((HttpStatusCode)422, e.Response.StatusCode);
        Assert.Contains("spec.paths[0].path", e.Response.Content);

        var pool = Samples.Pool("p");
        pool.Spec.Service!.Scheme = "public";
        pool.Spec.Replicas!.Min = 0;
        e = await Assert.ThrowsAsync<HttpOperationException>(() => h.Pools.CreateAsync(pool));
        Assert.Equal((HttpStatusCode)422, e.Response.StatusCode);
        Assert.Contains("spec.service.scheme", e.Response.Content);
        Assert.Contains("spec.replicas.min", e.Response.Content);

        // Defaults come from the schema.
        var minimal = Samples.Pool("minimal");
        minimal.Spec.Replicas = null;
        minimal.Spec.Autoscaling = new PoolAutoscaling();
        minimal.Spec.Service = null;
        var created = await h.Pools.CreateAsync(minimal);
        Assert.Equal(1000, created.Spec.Autoscaling!.PendingPerReplica);
    }
}
