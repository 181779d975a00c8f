using System.Text.Json;

namespace Fim.Contracts.Tests;

/// <summary>
/// The indexer reads alerts as <see cref="AlertIndexFields"/>: every field it indexes must read from an alert's wire JSON
/// exactly as the whole <see cref="Alert"/> reads it, so a field renamed on one side and not the other fails here.
/// </summary>
public sealed class AlertIndexFieldsTests
{
    private static readonly string[] SampleNames = ["workload", "package"];

    public static TheoryData<string> Samples => [.. SampleNames];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_indexed_field_reads_as_the_whole_alert_reads_it(string sample)
    {
        var alert = Sample(sample);
        var wire = ContractJson.ToUtf8(alert);

        var whole = (IAlertIndexFields)JsonSerializer.Deserialize(wire, ContractJson.Default.Alert)!;
        var projected = JsonSerializer.Deserialize(wire, ContractJson.Default.AlertIndexFields)!;

        foreach (var property in typeof(IAlertIndexFields).GetProperties())
        {
            var expected = Json(property.GetValue(whole), property.PropertyType);
            Assert.Equal(expected, Json(property.GetValue(projected), property.PropertyType));
        }
    }

    [Fact]
    public void The_samples_set_every_indexed_field_so_a_misread_one_shows()
    {
        var unset = typeof(IAlertIndexFields).GetProperties()
            .Where(p => SampleNames.All(s => IsDefault(p.GetValue(Sample(s)), p.PropertyType)))
            .Select(p => p.Name);
        Assert.Empty(unset);
    }

    private static Alert Sample(string name)
    {
        var alert = name == "package"
            ? Alert.For(Tests.Samples.PackageEvent(), new RuleRef { Id = "551", Level = 5, Description = "Package file changed." }, 5, [], [])
            : Tests.Samples.Alert();
        alert.Labels ??= new Dictionary<string, string> { ["role"] = "db" };
        return alert;
    }

    private static string Json(object? value, Type type) => JsonSerializer.Serialize(value, type, ContractJson.Default);

    private static bool IsDefault(object? value, Type type) => value is null || value is "" || Json(value, type) == Json(
        type.IsValueType ? Activator.CreateInstance(type) : null, type);
}
