using System.Globalization;
using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Printing;

/// <summary>
/// Server-side printing (<c>Accept: application/json;as=Table;v=v1;g=meta.k8s.io</c>): a meta.k8s.io/v1 Table.
/// Custom resources get Name plus their CRD version's additionalPrinterColumns (Age by default when none are declared),
/// built-ins get Name and Age, except core/v1 Events, which get the real server's event columns (Last Seen, Type,
/// Reason, Object, Message; Subobject, Source, First Seen, Count and Name at priority 1), so `kubectl get events` reads
/// as against a cluster.
/// </summary>
public static class TablePrinter
{
    private const string NameDescription =
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

    private const string AgeDescription =
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

    public static bool WantsTable(string? accept) =>
        accept is not null && accept.Split(',').FirstOrDefault()?.Replace(" ", "", StringComparison.Ordinal).Contains("as=Table", StringComparison.Ordinal) == true;

    public static JsonObject Build(ResourceType type, IEnumerable<JsonObject> objects, string resourceVersion, string? includeObject, string? continueToken = null)
    {
        if (type is { IsCustom: false, Group: "", Plural: "events" })
        {
            return EventTable(objects, resourceVersion, includeObject, continueToken);
        }

        var columns = Columns(type);
        var definitions = new JsonArray();
        definitions.Add(new JsonObject
        {
            ["name"] = "Name",
            ["type"] = "string",
            ["format"] = "name",
            ["description"] = NameDescription,
            ["priority"] = 0,
        });
        foreach (var c in columns)
        {
            definitions.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = type.IsCustom ? c.Type : "string",
                ["format"] = c.Format,
                ["description"] = c.Description,
                ["priority"] = c.Priority,
            });
        }

        var rows = new JsonArray();
        foreach (var obj in objects)
        {
            rows.Add(Row(obj, columns, includeObject));
        }

        var meta = new JsonObject { ["resourceVersion"] = resourceVersion };
        if (!string.IsNullOrEmpty(continueToken))
        {
            meta["continue"] = continueToken;
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = meta,
            ["columnDefinitions"] = definitions,
            ["rows"] = rows,
        };
    }

    private static IReadOnlyList<PrinterColumn> Columns(ResourceType type) =>
        type.IsCustom
            ? type.PrinterColumns
            : [new PrinterColumn("Age", "date", "", AgeDescription, 0, ".metadata.creationTimestamp")];

    private static JsonObject Row(JsonObject obj, IReadOnlyList<PrinterColumn> columns, string? includeObject)
    {
        var cells = new JsonArray { Json.Name(obj) };
        foreach (var c in columns)
        {
            cells.Add(Cell(obj, c));
        }

        var row = new JsonObject { ["cells"] = cells };
        switch (includeObject)
        {
            case "None":
                break;
            case "Object":
                row["object"] = obj.DeepClone();
                break;
            default:
                row["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = obj["metadata"]?.DeepClone(),
                };
                break;
        }

        return row;
    }

    private static JsonNode? Cell(JsonObject obj, PrinterColumn column)
    {
        IReadOnlyList<JsonNode?> results;
        try
        {
            results = JsonPathLite.Evaluate(obj, column.JsonPath);
        }
        catch (FormatException)
        {
            return null;
        }

        if (results.Count == 0 || results[0] is null)
        {
            return column.Type == "date" && column.JsonPath.Contains("creationTimestamp", StringComparison.Ordinal) ? "<unknown>" : null;
        }

        var value = results[0]!;
        switch (column.Type)
        {
            case "string":
                return JsonPathLite.Text(value);
            case "integer":
                return Json.Int(value) is { } i ? JsonValue.Create(i) : null;
            case "number":
                return Json.Number(value) is { } d ? JsonValue.Create(d) : null;
            case "boolean":
                return value is JsonValue bv && bv.TryGetValue<bool>(out var b) ? JsonValue.Create(b) : null;
            case "date":
                if (Json.Str(value) is not { } ts)
                {
                    return null;
                }

                return DateTimeOffset.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                    ? HumanDuration(DateTimeOffset.UtcNow - t)
                    : "<invalid>";
            default:
                return null;
        }
    }

    /// <summary>kubernetes/pkg/printers/internalversion: eventColumnDefinitions and printEvent.</summary>
    private static JsonObject EventTable(IEnumerable<JsonObject> objects, string resourceVersion, string? includeObject, string? continueToken)
    {
        (string Name, string Type, int Priority)[] columns =
        [
            ("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0), ("Object", "string", 0), ("Subobject", "string", 1),
            ("Source", "string", 1), ("Message", "string", 0), ("First Seen", "string", 1), ("Count", "integer", 1), ("Name", "string", 1),
        ];
        var definitions = new JsonArray();
        foreach (var (name, type, priority) in columns)
        {
            definitions.Add(new JsonObject { ["name"] = name, ["type"] = type, ["format"] = name == "Name" ? "name" : "", ["description"] = "", ["priority"] = priority });
        }

        var now = DateTimeOffset.UtcNow;
        string Since(JsonNode? ts) => Json.Str(ts) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? HumanDuration(now - t) : "<unknown>";
        var rows = new JsonArray();
        foreach (var e in objects)
        {
            var involved = e["involvedObject"] as JsonObject;
            var first = e["firstTimestamp"] ?? e["eventTime"];
            var last = e["lastTimestamp"] ?? e["eventTime"];
            var count = Json.Int(e["count"]) ?? 1;
            var lastSeen = count > 1 ? $"{Since(last)} (x{count} over {Since(first)})" : Since(last);
            var source = e["source"] is JsonObject src ? Json.Str(src["component"]) ?? "" : "";
            if (e["source"] is JsonObject src2 && Json.Str(src2["host"]) is { Length: > 0 } host)
            {
                source += ", " + host;
            }

            var cells = new JsonArray
            {
                lastSeen,
                Json.Str(e["type"]) ?? "",
                Json.Str(e["reason"]) ?? "",
                $"{(Json.Str(involved?["kind"]) ?? "").ToLowerInvariant()}/{Json.Str(involved?["name"]) ?? ""}",
                Json.Str(involved?["fieldPath"]) ?? "",
                source,
                (Json.Str(e["message"]) ?? "").Trim(),
                Since(first),
                JsonValue.Create(count),
                Json.Name(e),
            };
            var row = new JsonObject { ["cells"] = cells };
            if (includeObject == "Object")
            {
                row["object"] = e.DeepClone();
            }
            else if (includeObject != "None")
            {
                row["object"] = new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = e["metadata"]?.DeepClone() };
            }

            rows.Add(row);
        }

        var meta = new JsonObject { ["resourceVersion"] = resourceVersion };
        if (!string.IsNullOrEmpty(continueToken))
        {
            meta["continue"] = continueToken;
        }

        return new JsonObject { ["kind"] = "Table", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = meta, ["columnDefinitions"] = definitions, ["rows"] = rows };
    }

    /// <summary>k8s.io/apimachinery/pkg/util/duration.HumanDuration.</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        if (seconds < 60 * 2)
        {
            return $"{seconds}s";
        }

        var minutes = (long)d.TotalMinutes;
        if (minutes < 10)
        {
            var s = seconds % 60;
            return s == 0 ? $"{minutes}m" : $"{minutes}m{s}s";
        }

        if (minutes < 60 * 3)
        {
            return $"{minutes}m";
        }

        var hours = (long)d.TotalHours;
        if (hours < 8)
        {
            var m = minutes % 60;
            return m == 0 ? $"{hours}h" : $"{hours}h{m}m";
        }

        if (hours < 48)
        {
            return $"{hours}h";
        }

        if (hours < 24 * 8)
        {
            var h = hours % 24;
            return h == 0 ? $"{hours / 24}d" : $"{hours / 24}d{h}h";
        }

        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24}d";
        }

        if (hours < 24 * 365 * 8)
        {
            var dy = hours / 24 % 365;
            return dy == 0 ? $"{hours / 24 / 365}y" : $"{hours / 24 / 365}y{dy}d";
        }

        return $"{hours / 24 / 365}y";
    }
}
