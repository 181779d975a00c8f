using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;
using Fim.Testing.KubeApi.Patching;

namespace Fim.Testing.KubeApi.Storage;

/// <summary>
/// <c>metadata.managedFields</c> as the real server keeps it: one <c>Apply</c> entry per apply manager and one
/// <c>Update</c> entry per manager of creates, updates and non-apply patches, each with the leaf fields it owns
/// (<c>FieldsV1</c>) and when it last wrote them. A write takes the fields it changes from every other entry; entries
/// left owning nothing are dropped. Controllers read this to learn who set a field (for example the manager
/// <c>kubectl-annotate</c> behind an annotation).
/// </summary>
public sealed partial class ApiStore
{
    /// <summary>Update-operation ownership: object uid -> field manager -> owned leaf fields.</summary>
    private readonly Dictionary<string, Dictionary<string, Dictionary<string, ServerSideApply.FieldPath>>> _updaters = new(StringComparer.Ordinal);

    /// <summary>When each manager last wrote: object uid -> "operation/manager" -> time.</summary>
    private readonly Dictionary<string, Dictionary<string, string>> _writtenAt = new(StringComparer.Ordinal);

    /// <summary>Records who owns what after a write (an apply when <paramref name="applied"/> is given) and stamps it into the object.</summary>
    private void Own(ResourceType t, string uid, JsonObject? before, JsonObject after, string manager, Dictionary<string, ServerSideApply.FieldPath>? applied)
    {
        if (applied is null)
        {
            OwnUpdate(t, uid, before, after, manager);
        }
        else
        {
            OwnApply(t, uid, before, after, manager, applied);
        }

        StampManagedFields(t, after);
    }

    /// <summary>A create or plain update: its manager owns the fields it set, taken from every other manager.</summary>
    private void OwnUpdate(ResourceType t, string uid, JsonObject? before, JsonObject after, string manager)
    {
        var leaves = ServerSideApply.Leaves(t, after);
        var changed = before is null ? [.. leaves.Keys] : ServerSideApply.Changed(t, before, after).ToList();
        Disown(uid, changed);
        if (changed.Count == 0)
        {
            return;
        }

        var updaters = Entry(_updaters, uid);
        var owned = updaters.GetValueOrDefault(manager) ?? new(StringComparer.Ordinal);
        foreach (var text in changed)
        {
            if (leaves.TryGetValue(text, out var path))
            {
                owned[text] = path;
            }
        }

        updaters[manager] = owned;
        Entry(_writtenAt, uid)["Update/" + manager] = Json.Now();
    }

    /// <summary>An apply: the manager owns exactly what it applied.</summary>
    private void OwnApply(ResourceType t, string uid, JsonObject? before, JsonObject after, string manager, Dictionary<string, ServerSideApply.FieldPath> applied)
    {
        if (before is not null)
        {
            Disown(uid, ServerSideApply.Changed(t, before, after));
        }

        Entry(_managed, uid)[manager] = applied;
        Entry(_writtenAt, uid)["Apply/" + manager] = Json.Now();
    }

    /// <summary>Whether an apply that changes no value still changes who owns what (a new manager, or other fields).</summary>
    private bool ApplyChangesOwnership(string? uid, string manager, Dictionary<string, ServerSideApply.FieldPath> applied) =>
        _managed.GetValueOrDefault(uid ?? "")?.GetValueOrDefault(manager) is not { } owned
            || owned.Count != applied.Count || !applied.Keys.All(owned.ContainsKey);

    /// <summary>Fields a write changed belong to nobody else any more.</summary>
    private void Disown(string uid, IEnumerable<string> changed)
    {
        var owners = Owned(_managed, uid).Concat(Owned(_updaters, uid)).ToList();
        foreach (var text in changed)
        {
            foreach (var owned in owners)
            {
                owned.Remove(text);
            }
        }
    }

    private static IEnumerable<Dictionary<string, ServerSideApply.FieldPath>> Owned(Dictionary<string, Dictionary<string, Dictionary<string, ServerSideApply.FieldPath>>> table, string uid) =>
        table.TryGetValue(uid, out var byManager) ? byManager.Values : [];

    private void ForgetOwnership(string uid)
    {
        _managed.Remove(uid);
        _updaters.Remove(uid);
        _writtenAt.Remove(uid);
    }

    /// <summary>Writes the ownership of an object into its metadata, in the real server's format.</summary>
    private void StampManagedFields(ResourceType t, JsonObject obj)
    {
        var uid = Json.Uid(obj) ?? "";
        var times = _writtenAt.GetValueOrDefault(uid);
        var entries = new JsonArray();
        void Add(string operation, Dictionary<string, Dictionary<string, ServerSideApply.FieldPath>>? byManager)
        {
            foreach (var (manager, owned) in (byManager ?? []).Where(m => m.Value.Count > 0).OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                entries.Add(new JsonObject
                {
                    ["manager"] = manager,
                    ["operation"] = operation,
                    ["apiVersion"] = t.ApiVersion,
                    ["time"] = times?.GetValueOrDefault($"{operation}/{manager}") ?? Json.Now(),
                    ["fieldsType"] = "FieldsV1",
                    ["fieldsV1"] = FieldsV1(owned.Values),
                });
            }
        }

        Add("Apply", _managed.GetValueOrDefault(uid));
        Add("Update", _updaters.GetValueOrDefault(uid));
        if (entries.Count > 0)
        {
            Json.Metadata(obj)["managedFields"] = entries;
        }
        else
        {
            Json.Metadata(obj).Remove("managedFields");
        }
    }

    /// <summary>The FieldsV1 trie: <c>f:name</c> for fields, <c>k:{...}</c> for list elements by key, <c>v:...</c> for set values.</summary>
    private static JsonObject FieldsV1(IEnumerable<ServerSideApply.FieldPath> paths)
    {
        var root = new JsonObject();
        foreach (var path in paths.OrderBy(p => p.Text, StringComparer.Ordinal))
        {
            var node = root;
            foreach (var segment in path.Segments)
            {
                var key = segment switch
                {
                    ServerSideApply.FieldSegment f => "f:" + f.Name,
                    ServerSideApply.KeySegment k => "k:" + new JsonObject(k.Keys.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))).ToJsonString(Json.Compact),
                    ServerSideApply.ValueSegment v => "v:" + (v.Value?.ToJsonString(Json.Compact) ?? "null"),
                    _ => throw new InvalidOperationException($"unknown segment {segment}"),
                };
                if (node[key] is not JsonObject next)
                {
                    node[key] = next = new JsonObject();
                }

                node = next;
            }
        }

        return root;
    }

    private static Dictionary<string, TValue> Entry<TValue>(Dictionary<string, Dictionary<string, TValue>> table, string uid)
    {
        if (!table.TryGetValue(uid, out var entry))
        {
            table[uid] = entry = new(StringComparer.Ordinal);
        }

        return entry;
    }
}
