using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;

namespace Fim.Testing.KubeApi.Storage;

/// <summary>
/// Deletion and what the real control plane does after it: finalizers and deletionTimestamp,
/// garbage collection by ownerReferences (background, foreground, orphan), namespace content
/// removal, and CRD instance cleanup. All of it runs synchronously inside the write that triggers it
/// (the real controllers are asynchronous; clients observe the same sequence of events).
/// </summary>
public sealed partial class ApiStore
{
    private const string ForegroundFinalizer = "foregroundDeletion";
    private const string OrphanFinalizer = "orphan";

    private static bool NeedsFinalization(string groupResource, JsonObject obj) =>
        groupResource == Builtins.Namespaces.GroupResource
        || groupResource == Builtins.Crds.GroupResource
        || Json.Finalizers(obj).Any(f => f is ForegroundFinalizer or OrphanFinalizer);

    /// <summary>Deletes now, or marks for deletion when finalizers remain. Returns the last state and whether it is gone.</summary>
    private (JsonObject Body, bool Deleted) DeleteLocked(ResourceBucket b, string key, string? propagationPolicy)
    {
        var existing = b.Items[key];
        var finalizers = Json.Finalizers(existing).ToList();
        switch (propagationPolicy)
        {
            case "Foreground":
                finalizers.Remove(OrphanFinalizer);
                if (!finalizers.Contains(ForegroundFinalizer))
                {
                    finalizers.Add(ForegroundFinalizer);
                }

                break;
            case "Orphan":
                finalizers.Remove(ForegroundFinalizer);
                if (!finalizers.Contains(OrphanFinalizer))
                {
                    finalizers.Add(OrphanFinalizer);
                }

                break;
            case "Background":
                finalizers.Remove(ForegroundFinalizer);
                finalizers.Remove(OrphanFinalizer);
                break;
        }

        var graceful = finalizers.Count > 0 || HasNamespaceFinalizers(existing);
        if (!graceful)
        {
            RemoveNow(b, key);
            return (existing, true);
        }

        var updated = Json.Clone(existing);
        Json.SetFinalizers(updated, finalizers);
        var meta = Json.Metadata(updated);
        if (!Json.IsTerminating(existing))
        {
            meta["deletionTimestamp"] = Json.Now();
            meta["deletionGracePeriodSeconds"] = 0;
            if (Json.Int(meta["generation"]) is { } gen and > 0)
            {
                meta["generation"] = gen + 1;
            }

            if (b.GroupResource == Builtins.Namespaces.GroupResource)
            {
                updated["status"] = new JsonObject { ["phase"] = "Terminating" };
            }
        }

        if (!JsonNode.DeepEquals(updated, existing))
        {
            Write(b, key, updated, existing);
        }

        _pendingFinalization.Add(new ObjRef(b.GroupResource, key));
        return (b.Items[key], false);
    }

    /// <summary>Runs garbage collection and pending finalization until nothing changes.</summary>
    private void Settle()
    {
        for (var round = 0; round < 100_000; round++)
        {
            var before = _mutations;
            while (_gcCandidates.TryDequeue(out var candidate))
            {
                CollectIfGarbage(candidate);
            }

            foreach (var r in _pendingFinalization.ToList())
            {
                Finalize(r);
            }

            if (_mutations == before && _gcCandidates.Count == 0)
            {
                return;
            }
        }

        throw new InvalidOperationException("garbage collection did not settle");
    }

    /// <summary>An object whose owners are all gone is deleted; dangling references next to live owners are removed.</summary>
    private void CollectIfGarbage(ObjRef r)
    {
        var obj = Find(r);
        if (obj?["metadata"]?["ownerReferences"] is not JsonArray refs || refs.Count == 0)
        {
            return;
        }

        var owners = refs.OfType<JsonObject>().ToList();
        var alive = owners.Where(o => Json.Str(o, "uid") is { } u && _uids.ContainsKey(u)).ToList();
        if (alive.Count == owners.Count)
        {
            return;
        }

        var b = _buckets[r.GroupResource];
        if (alive.Count > 0)
        {
            var updated = Json.Clone(obj);
            Json.Metadata(updated)["ownerReferences"] = new JsonArray(alive.Select(a => (JsonNode?)a.DeepClone()).ToArray());
            Write(b, r.Key, updated, obj);
            return;
        }

        if (!Json.IsTerminating(obj))
        {
            DeleteLocked(b, r.Key, "Background");
        }
    }

    private void Finalize(ObjRef r)
    {
        var obj = Find(r);
        if (obj is null || !Json.IsTerminating(obj))
        {
            _pendingFinalization.Remove(r);
            return;
        }

        var b = _buckets[r.GroupResource];
        var uid = Json.Uid(obj) ?? "";
        var finalizers = Json.Finalizers(obj).ToList();

        if (finalizers.Contains(OrphanFinalizer))
        {
            foreach (var d in Dependents(uid))
            {
                var dep = Find(d)!;
                var updated = Json.Clone(dep);
                var remaining = (dep["metadata"]?["ownerReferences"] as JsonArray)!.OfType<JsonObject>()
                    .Where(o => Json.Str(o, "uid") != uid).Select(o => (JsonNode?)o.DeepClone()).ToArray();
                if (remaining.Length == 0)
                {
                    Json.Metadata(updated).Remove("ownerReferences");
                }
                else
                {
                    Json.Metadata(updated)["ownerReferences"] = new JsonArray(remaining);
                }

                Write(_buckets[d.GroupResource], d.Key, updated, dep);
            }

            RemoveFinalizer(b, r, OrphanFinalizer);
            return;
        }

        if (finalizers.Contains(ForegroundFinalizer))
        {
            var remaining = 0;
            foreach (var d in Dependents(uid))
            {
                var dep = Find(d)!;
                remaining++;
                if (!Json.IsTerminating(dep))
                {
                    DeleteLocked(_buckets[d.GroupResource], d.Key, "Foreground");
                }
            }

            if (remaining == 0)
            {
                RemoveFinalizer(b, r, ForegroundFinalizer);
            }

            return;
        }

        if (r.GroupResource == Builtins.Namespaces.GroupResource)
        {
            FinalizeNamespace(b, r, obj);
            return;
        }

        if (r.GroupResource == Builtins.Crds.GroupResource && finalizers.Contains(Strategies.CrdCleanupFinalizer))
        {
            var gr = $"{Json.Str(obj["spec"]?["names"], "plural")}.{Json.Str(obj["spec"], "group")}";
            if (_buckets.TryGetValue(gr, out var crs) && crs.Items.Count > 0)
            {
                foreach (var (key, cr) in crs.Items.ToList())
                {
                    if (!Json.IsTerminating(cr))
                    {
                        DeleteLocked(crs, key, "Background");
                    }
                }

                return;
            }

            RemoveFinalizer(b, r, Strategies.CrdCleanupFinalizer);
        }
    }

    private void FinalizeNamespace(ResourceBucket b, ObjRef r, JsonObject ns)
    {
        var prefix = r.Key + "/";
        var remaining = 0;
        foreach (var bucket in _buckets.Values.ToList())
        {
            var type = _catalog.StorageType(bucket.GroupResource);
            if (type is null || !type.Namespaced)
            {
                continue;
            }

            foreach (var (key, obj) in bucket.Items.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                remaining++;
                if (!Json.IsTerminating(obj))
                {
                    DeleteLocked(bucket, key, "Background");
                }
            }
        }

        if (remaining > 0)
        {
            return;
        }

        if (HasNamespaceFinalizers(ns))
        {
            var updated = Json.Clone(ns);
            var specFinalizers = (updated["spec"]!["finalizers"] as JsonArray)!.Select(Json.Str).Where(f => f != "kubernetes").ToList();
            updated["spec"]!["finalizers"] = new JsonArray(specFinalizers.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray());
            Write(b, r.Key, updated, ns);
            ns = updated;
        }

        if (!Json.Finalizers(ns).Any() && !HasNamespaceFinalizers(ns))
        {
            RemoveNow(b, r.Key);
        }
    }

    private void RemoveFinalizer(ResourceBucket b, ObjRef r, string finalizer)
    {
        var obj = Find(r)!;
        var updated = Json.Clone(obj);
        Json.SetFinalizers(updated, Json.Finalizers(obj).Where(f => f != finalizer));
        Write(b, r.Key, updated, obj);
        if (!Json.Finalizers(updated).Any() && !HasNamespaceFinalizers(updated))
        {
            RemoveNow(b, r.Key);
        }
    }

    private List<ObjRef> Dependents(string uid) =>
        _dependents.TryGetValue(uid, out var set) ? set.Where(d => Find(d) is not null).ToList() : [];
}
