using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Http;

/// <summary>
/// Decodes the Kubernetes protobuf envelope (<c>application/vnd.kubernetes.protobuf</c>: "k8s\0" + runtime.Unknown)
/// for the few kinds kubectl's typed generators send that way: <c>kubectl create namespace|configmap|secret|serviceaccount</c>.
/// Field numbers follow k8s.io/api/core/v1/generated.proto. Any other kind is refused with 415.
/// </summary>
internal static class KubeProtobuf
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    private abstract record Field(string Name);

    private sealed record Str(string Name) : Field(Name);

    private sealed record Bytes(string Name) : Field(Name);

    private sealed record Int(string Name) : Field(Name);

    private sealed record Bool(string Name) : Field(Name);

    private sealed record Time(string Name) : Field(Name);

    private sealed record Msg(string Name, Dictionary<int, Field> Schema) : Field(Name);

    private sealed record StrList(string Name) : Field(Name);

    private sealed record MsgList(string Name, Dictionary<int, Field> Schema) : Field(Name);

    private sealed record StrMap(string Name) : Field(Name);

    private sealed record BytesMap(string Name) : Field(Name);

    private static readonly Dictionary<int, Field> OwnerReference = new()
    {
        [1] = new Str("kind"),
        [3] = new Str("name"),
        [4] = new Str("uid"),
        [5] = new Str("apiVersion"),
        [6] = new Bool("controller"),
        [7] = new Bool("blockOwnerDeletion"),
    };

    private static readonly Dictionary<int, Field> ObjectMeta = new()
    {
        [1] = new Str("name"),
        [2] = new Str("generateName"),
        [3] = new Str("namespace"),
        [4] = new Str("selfLink"),
        [5] = new Str("uid"),
        [6] = new Str("resourceVersion"),
        [7] = new Int("generation"),
        [8] = new Time("creationTimestamp"),
        [9] = new Time("deletionTimestamp"),
        [10] = new Int("deletionGracePeriodSeconds"),
        [11] = new StrMap("labels"),
        [12] = new StrMap("annotations"),
        [13] = new MsgList("ownerReferences", OwnerReference),
        [14] = new StrList("finalizers"),
    };

    private static readonly Dictionary<int, Field> ObjectReference = new()
    {
        [1] = new Str("kind"),
        [2] = new Str("namespace"),
        [3] = new Str("name"),
        [4] = new Str("uid"),
        [5] = new Str("apiVersion"),
        [6] = new Str("resourceVersion"),
        [7] = new Str("fieldPath"),
    };

    // meta/v1 DeleteOptions, which every group version registers (helm uninstall sends it as protobuf).
    private static readonly Dictionary<int, Field> DeleteOptions = new()
    {
        [1] = new Int("gracePeriodSeconds"),
        [2] = new Msg("preconditions", new() { [1] = new Str("uid"), [2] = new Str("resourceVersion") }),
        [3] = new Bool("orphanDependents"),
        [4] = new Str("propagationPolicy"),
        [5] = new StrList("dryRun"),
    };

    private static readonly Dictionary<string, Dictionary<int, Field>> Kinds = new(StringComparer.Ordinal)
    {
        ["v1/Namespace"] = new()
        {
            [1] = new Msg("metadata", ObjectMeta),
            [2] = new Msg("spec", new() { [1] = new StrList("finalizers") }),
            [3] = new Msg("status", new() { [1] = new Str("phase") }),
        },
        ["v1/ConfigMap"] = new()
        {
            [1] = new Msg("metadata", ObjectMeta),
            [2] = new StrMap("data"),
            [3] = new BytesMap("binaryData"),
            [4] = new Bool("immutable"),
        },
        ["v1/Secret"] = new()
        {
            [1] = new Msg("metadata", ObjectMeta),
            [2] = new BytesMap("data"),
            [3] = new Str("type"),
            [4] = new StrMap("stringData"),
            [5] = new Bool("immutable"),
        },
        ["v1/ServiceAccount"] = new()
        {
            [1] = new Msg("metadata", ObjectMeta),
            [2] = new MsgList("secrets", ObjectReference),
            [3] = new MsgList("imagePullSecrets", new() { [1] = new Str("name") }),
            [4] = new Bool("automountServiceAccountToken"),
        },
    };

    public static JsonObject Decode(byte[] body)
    {
        if (body.Length < Magic.Length || !body.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw ApiError.BadRequest("provided protobuf is not prefixed with the Kubernetes magic number");
        }

        string? apiVersion = null, kind = null;
        ReadOnlyMemory<byte> raw = default;
        var reader = new Reader(body.AsMemory(Magic.Length));
        while (reader.Next(out var number, out var wire))
        {
            switch (number)
            {
                case 1:
                    var typeMeta = new Reader(reader.LengthDelimited());
                    while (typeMeta.Next(out var n, out var w))
                    {
                        if (n == 1)
                        {
                            apiVersion = typeMeta.String();
                        }
                        else if (n == 2)
                        {
                            kind = typeMeta.String();
                        }
                        else
                        {
                            typeMeta.Skip(w);
                        }
                    }

                    break;
                case 2:
                    raw = reader.LengthDelimited();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (!Kinds.TryGetValue($"{apiVersion}/{kind}", out var schema) && !(kind == "DeleteOptions" && (schema = DeleteOptions) is not null))
        {
            throw new ApiError(415, "UnsupportedMediaType",
                $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (this API double decodes protobuf only for {string.Join(", ", Kinds.Keys)}; send {apiVersion}/{kind} as JSON, e.g. kubectl create -f or kubectl apply -f)");
        }

        var obj = ReadMessage(new Reader(raw), schema);
        obj["apiVersion"] = apiVersion;
        obj["kind"] = kind;
        return obj;
    }

    private static JsonObject ReadMessage(Reader reader, Dictionary<int, Field> schema)
    {
        var obj = new JsonObject();
        while (reader.Next(out var number, out var wire))
        {
            if (!schema.TryGetValue(number, out var field))
            {
                reader.Skip(wire);
                continue;
            }

            switch (field)
            {
                // Go marshals zero values too; like its JSON (omitempty) they are dropped here.
                case Str s:
                    var text = reader.String();
                    if (text.Length > 0)
                    {
                        obj[s.Name] = text;
                    }

                    break;
                case Bytes b:
                    obj[b.Name] = Convert.ToBase64String(reader.LengthDelimited().Span);
                    break;
                case Int i:
                    var integer = (long)reader.Varint();
                    if (integer != 0)
                    {
                        obj[i.Name] = integer;
                    }

                    break;
                case Bool b:
                    if (reader.Varint() != 0)
                    {
                        obj[b.Name] = true;
                    }

                    break;
                case Time t:
                    var time = new Reader(reader.LengthDelimited());
                    long seconds = 0;
                    while (time.Next(out var n, out var w))
                    {
                        if (n == 1)
                        {
                            seconds = (long)time.Varint();
                        }
                        else
                        {
                            time.Skip(w);
                        }
                    }

                    if (seconds > 0)
                    {
                        obj[t.Name] = DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                    }

                    break;
                case Msg m:
                    obj[m.Name] = ReadMessage(new Reader(reader.LengthDelimited()), m.Schema);
                    break;
                case StrList l:
                    (obj[l.Name] as JsonArray ?? (JsonArray)(obj[l.Name] = new JsonArray())).Add(reader.String());
                    break;
                case MsgList l:
                    (obj[l.Name] as JsonArray ?? (JsonArray)(obj[l.Name] = new JsonArray())).Add(ReadMessage(new Reader(reader.LengthDelimited()), l.Schema));
                    break;
                case StrMap or BytesMap:
                    var entry = new Reader(reader.LengthDelimited());
                    string key = "";
                    JsonNode? value = null;
                    while (entry.Next(out var n, out var w))
                    {
                        if (n == 1)
                        {
                            key = entry.String();
                        }
                        else if (n == 2)
                        {
                            value = field is StrMap ? JsonValue.Create(entry.String()) : JsonValue.Create(Convert.ToBase64String(entry.LengthDelimited().Span));
                        }
                        else
                        {
                            entry.Skip(w);
                        }
                    }

                    (obj[field.Name] as JsonObject ?? (JsonObject)(obj[field.Name] = new JsonObject()))[key] = value ?? "";
                    break;
            }
        }

        return obj;
    }

    private sealed class Reader(ReadOnlyMemory<byte> data)
    {
        private int _pos;

        public bool Next(out int number, out int wire)
        {
            if (_pos >= data.Length)
            {
                number = wire = 0;
                return false;
            }

            var tag = Varint();
            number = (int)(tag >> 3);
            wire = (int)(tag & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= data.Length)
                {
                    throw ApiError.BadRequest("truncated protobuf varint");
                }

                var b = data.Span[_pos++];
                result |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw ApiError.BadRequest("malformed protobuf varint");
        }

        public ReadOnlyMemory<byte> LengthDelimited()
        {
            var length = (int)Varint();
            if (length < 0 || _pos + length > data.Length)
            {
                throw ApiError.BadRequest("truncated protobuf field");
            }

            var slice = data.Slice(_pos, length);
            _pos += length;
            return slice;
        }

        public string String() => Encoding.UTF8.GetString(LengthDelimited().Span);

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _pos += 8; break;
                case 2: LengthDelimited(); break;
                case 5: _pos += 4; break;
                default: throw ApiError.BadRequest($"unsupported protobuf wire type {wire}");
            }
        }
    }
}
