using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Fim.Contracts;

/// <summary>
/// An alert in Elastic Common Schema field names (<c>@timestamp</c>, <c>event.*</c>, <c>file.*</c>, <c>host.*</c>,
/// <c>agent.*</c>, <c>rule.*</c>, <c>process.*</c>, <c>user.*</c>,
/// <c>container.*</c>, <c>orchestrator.*</c>, <c>package.*</c>), so Elasticsearch, OpenSearch and Loki take alerts
/// without an ingest pipeline. <c>file.*</c> is the file as it is now (as it was, for a deletion); what ECS has no field
/// for (the state before, the changed attributes, the Wazuh-style level and compliance references, the diff, growth,
/// flapping, package and baseline-reset records) is under <c>fim.*</c>; <c>package.*</c> names the owning package.
/// </summary>
public static class EcsAlert
{
    public const string EcsVersion = "8.11.0";

    private static readonly JsonWriterOptions Options = new() { Indented = false };

    public static byte[] ToUtf8(Alert alert)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            Write(writer, alert);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Utf8JsonWriter w, Alert a)
    {
        var record = a.Record;
        w.WriteStartObject();
        w.WriteString("@timestamp", record?.Time ?? a.ObservedAt);
        w.WriteString("message", record is null ? $"{a.Rule.Description} {a.Path}" : record.Message ?? record.Title ?? a.Rule.Description);
        w.WriteStartObject("ecs");
        w.WriteString("version", EcsVersion);
        w.WriteEndObject();

        w.WriteStartObject("event");
        w.WriteString("id", a.AlertId);
        w.WriteString("kind", "alert");
        w.WriteStartArray("category");
        w.WriteStringValue(record is null ? "file" : EventCategory(record.Format));
        w.WriteEndArray();
        w.WriteStartArray("type");
        w.WriteStringValue(record is null ? EventType(a.Kind) : "info");
        w.WriteEndArray();
        w.WriteString("action", record?.Title ?? a.Kind);
        w.WriteNumber("severity", a.Level);
        w.WriteString("module", record?.Format ?? "fim");
        w.WriteString("dataset", record is null ? "fim.alert" : $"{record.Format}.alert");
        if (record?.Status is { } status)
        {
            // ECS event.outcome for a check: a failed check is a failure, a passed one a success.
            w.WriteString("outcome", status.Equals("FAIL", StringComparison.OrdinalIgnoreCase) ? "failure"
                : status.Equals("PASS", StringComparison.OrdinalIgnoreCase) ? "success" : "unknown");
        }
        w.WriteString("created", a.ObservedAt);
        if (a.PublishedAt is { } published)
        {
            w.WriteString("ingested", published);
        }
        w.WriteEndObject();

        w.WriteStartObject("rule");
        w.WriteString("id", a.Rule.Id);
        w.WriteString("name", record?.Title ?? a.Rule.Description);
        w.WriteString("description", a.Rule.Description);
        w.WriteString("ruleset", record?.Format ?? "fim");
        w.WriteString("category", record is null ? "file-integrity" : "security");
        w.WriteEndObject();

        if (record is null)
        {
            WriteFile(w, a.Path, a.Kind == "deleted" ? a.Before : a.After ?? a.Before);
        }
        else
        {
            WriteSecurity(w, a.Path, record);
        }

        w.WriteStartObject("host");
        w.WriteString("name", a.Host);
        w.WriteString("hostname", a.Host);
        w.WriteEndObject();
        w.WriteStartObject("agent");
        w.WriteString("id", a.AgentId);
        w.WriteString("type", "fim-agent");
        w.WriteEndObject();

        if (a.Actor is { } actor)
        {
            WriteActor(w, actor);
        }
        WriteWorkload(w, a.Container ?? a.Actor?.Workload);
        if (a.Package is { } package)
        {
            w.WriteStartObject("package");
            w.WriteString("name", package.Name);
            WriteIfSet(w, "version", package.VersionAfter);
            w.WriteString("type", package.Manager);
            w.WriteEndObject();
        }
        if (a.Labels is { Count: > 0 } labels)
        {
            w.WriteStartObject("labels");
            foreach (var (key, value) in labels)
            {
                // ECS labels are flat keywords without dots in their names.
                w.WriteString(key.Replace('.', '_'), value);
            }
            w.WriteEndObject();
        }
        w.WriteStartArray("tags");
        foreach (var tag in a.Record is { Tags.Count: > 0 } r ? a.Tags.Concat(r.Tags).Distinct() : a.Tags)
        {
            w.WriteStringValue(tag);
        }
        w.WriteEndArray();

        WriteFim(w, a);
        w.WriteEndObject();
    }

    /// <summary>ECS <c>event.category</c> of a security record: Falco watches for intrusions, Prowler checks configuration.</summary>
    public static string EventCategory(string format) => format switch
    {
        SecurityRecord.Falco => "intrusion_detection",
        SecurityRecord.Prowler => "configuration",
        _ => "threat",
    };

    /// <summary><c>log.file.path</c> (where the record came from), <c>log.level</c> and <c>cloud.*</c> of a security record; ECS has no field for the resource, which is under <c>fim.record</c>.</summary>
    private static void WriteSecurity(Utf8JsonWriter w, string path, SecurityRecord r)
    {
        w.WriteStartObject("log");
        w.WriteStartObject("file");
        w.WriteString("path", path);
        w.WriteEndObject();
        WriteIfSet(w, "level", r.Severity);
        w.WriteEndObject();
        if (r.CloudProvider is not null || r.CloudAccount is not null || r.Region is not null)
        {
            w.WriteStartObject("cloud");
            WriteIfSet(w, "provider", r.CloudProvider);
            WriteIfSet(w, "region", r.Region);
            if (r.CloudAccount is { } account)
            {
                w.WriteStartObject("account");
                w.WriteString("id", account);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
    }

    /// <summary>ECS <c>event.type</c> for a change kind: creation, deletion or change.</summary>
    public static string EventType(string kind) => kind switch
    {
        "added" => "creation",
        "deleted" => "deletion",
        _ => "change",
    };

    /// <summary>ECS <c>file.type</c>: file, dir or symlink; other kinds (fifo, socket, devices) keep our name.</summary>
    public static string FileType(string type) => type switch
    {
        "file" or "regular" => "file",
        "directory" => "dir",
        _ => type,
    };

    private static void WriteFile(Utf8JsonWriter w, string path, FileState? state)
    {
        w.WriteStartObject("file");
        w.WriteString("path", path);
        var slash = path.LastIndexOf('/');
        var name = slash >= 0 ? path[(slash + 1)..] : path;
        w.WriteString("name", name);
        w.WriteString("directory", slash > 0 ? path[..slash] : "/");
        var dot = name.LastIndexOf('.');
        if (dot > 0 && dot < name.Length - 1)
        {
            w.WriteString("extension", name[(dot + 1)..]);
        }
        if (state is not null)
        {
            w.WriteString("type", FileType(state.Type));
            w.WriteNumber("size", state.Size);
            w.WriteString("mode", state.Mode);
            // ECS types uid, gid and inode as keywords.
            w.WriteString("uid", state.Uid.ToString(CultureInfo.InvariantCulture));
            w.WriteString("gid", state.Gid.ToString(CultureInfo.InvariantCulture));
            WriteIfSet(w, "owner", state.Owner);
            WriteIfSet(w, "group", state.Group);
            w.WriteString("inode", state.Inode.ToString(CultureInfo.InvariantCulture));
            w.WriteString("device", state.Device.ToString(CultureInfo.InvariantCulture));
            w.WriteString("mtime", state.Mtime);
            w.WriteString("ctime", state.Ctime);
            WriteIfSet(w, "target_path", state.Target);
            if (state.Sha256 is not null || state.Sha512 is not null || state.Sha1 is not null || state.Md5 is not null)
            {
                w.WriteStartObject("hash");
                WriteIfSet(w, "sha256", state.Sha256);
                WriteIfSet(w, "sha512", state.Sha512);
                WriteIfSet(w, "sha1", state.Sha1);
                WriteIfSet(w, "md5", state.Md5);
                w.WriteEndObject();
            }
        }
        w.WriteEndObject();
    }

    private static void WriteActor(Utf8JsonWriter w, Actor actor)
    {
        if (actor.Pid is not null || actor.Process is not null)
        {
            w.WriteStartObject("process");
            if (actor.Pid is { } pid)
            {
                w.WriteNumber("pid", pid);
            }
            WriteIfSet(w, "name", actor.Process);
            WriteIfSet(w, "executable", actor.Executable);
            WriteIfSet(w, "command_line", actor.CommandLine);
            if (actor.Ppid is { } ppid)
            {
                w.WriteStartObject("parent");
                w.WriteNumber("pid", ppid);
                w.WriteEndObject();
            }
            WriteId(w, "user", actor.Euid, null);
            WriteId(w, "real_user", actor.Uid, actor.User);
            WriteId(w, "group", actor.Gid, actor.Group);
            w.WriteEndObject();
        }
        if (actor.Uid is not null || actor.LoginUid is not null)
        {
            w.WriteStartObject("user");
            if (actor.Uid is { } uid)
            {
                w.WriteString("id", uid.ToString(CultureInfo.InvariantCulture));
            }
            WriteIfSet(w, "name", actor.User);
            if (actor.Gid is not null)
            {
                WriteId(w, "group", actor.Gid, actor.Group);
            }
            if (actor.Euid is { } euid && euid != actor.Uid)
            {
                WriteId(w, "effective", euid, null);
            }
            if (actor.LoginUid is { } loginUid)
            {
                WriteId(w, "audit", loginUid, actor.LoginUser);
            }
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// ECS <c>container.*</c> and <c>orchestrator.*</c>: the container holding the file when the policy watches files
    /// inside pods, otherwise the writer's container; a writer on the node itself has neither.
    /// </summary>
    private static void WriteWorkload(Utf8JsonWriter w, Workload? workload)
    {
        if (workload is null || workload.Scope != Workload.PodScope)
        {
            return;
        }
        if (workload.ContainerId is not null || workload.ContainerName is not null || workload.Image is not null)
        {
            w.WriteStartObject("container");
            WriteIfSet(w, "id", workload.ContainerId);
            WriteIfSet(w, "name", workload.ContainerName);
            WriteIfSet(w, "runtime", workload.ContainerRuntime);
            if (workload.Image is not null)
            {
                w.WriteStartObject("image");
                w.WriteString("name", workload.Image);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteStartObject("orchestrator");
        w.WriteString("type", "kubernetes");
        WriteIfSet(w, "namespace", workload.PodNamespace);
        w.WriteStartObject("resource");
        w.WriteString("type", "pod");
        WriteIfSet(w, "name", workload.PodName);
        WriteIfSet(w, "id", workload.PodUid);
        if (workload.OwnerKind is not null || workload.OwnerName is not null)
        {
            w.WriteStartObject("parent");
            WriteIfSet(w, "type", workload.OwnerKind);
            WriteIfSet(w, "name", workload.OwnerName);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteFim(Utf8JsonWriter w, Alert a)
    {
        w.WriteStartObject("fim");
        w.WriteNumber("schema_version", a.SchemaVersion);
        w.WriteString("event_id", a.EventId);
        WriteIfSet(w, "policy", a.Policy);
        w.WriteString("source", a.Source);
        w.WriteNumber("level", a.Level);
        WriteIfSet(w, "path_base64", a.PathBase64);
        w.WriteStartArray("changed");
        foreach (var attribute in a.Changed)
        {
            w.WriteStringValue(attribute);
        }
        w.WriteEndArray();
        w.WriteStartArray("compliance");
        foreach (var reference in a.Compliance)
        {
            w.WriteStringValue(reference);
        }
        w.WriteEndArray();
        if (a.Before is not null)
        {
            w.WritePropertyName("before");
            JsonSerializer.Serialize(w, a.Before, ContractJson.Default.FileState);
        }
        if (a.After is not null)
        {
            w.WritePropertyName("after");
            JsonSerializer.Serialize(w, a.After, ContractJson.Default.FileState);
        }
        WriteIfSet(w, "diff", a.Diff);
        WriteObject(w, "diff_info", a.DiffInfo, ContractJson.Default.DiffInfo);
        WriteObject(w, "growth", a.Growth, ContractJson.Default.GrowthInfo);
        WriteObject(w, "flapping", a.Flapping, ContractJson.Default.FlappingInfo);
        // The whole package record (verified, version before): ECS package.* holds only name, version and type.
        WriteObject(w, "package", a.Package, ContractJson.Default.PackageInfo);
        WriteObject(w, "reset", a.Reset, ContractJson.Default.BaselineResetInfo);
        // The whole record with its flattened fields: what the rules looked at.
        WriteObject(w, "record", a.Record, ContractJson.Default.SecurityRecord);
        if (a.Actor is { } actor && (actor.Unknown is not null || actor.SessionId is not null))
        {
            w.WriteStartObject("actor");
            WriteIfSet(w, "unknown", actor.Unknown);
            if (actor.SessionId is { } session)
            {
                w.WriteNumber("session_id", session);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteObject<T>(Utf8JsonWriter w, string name, T? value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        if (value is not null)
        {
            w.WritePropertyName(name);
            JsonSerializer.Serialize(w, value, type);
        }
    }

    private static void WriteId(Utf8JsonWriter w, string name, uint? id, string? text)
    {
        if (id is null && text is null)
        {
            return;
        }
        w.WriteStartObject(name);
        if (id is { } value)
        {
            w.WriteString("id", value.ToString(CultureInfo.InvariantCulture));
        }
        WriteIfSet(w, "name", text);
        w.WriteEndObject();
    }

    private static void WriteIfSet(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }
}
