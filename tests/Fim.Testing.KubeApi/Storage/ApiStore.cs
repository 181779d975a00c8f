using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;
using Fim.Testing.KubeApi.Patching;
using Fim.Testing.KubeApi.Selectors;

namespace Fim.Testing.KubeApi.Storage;

/// <summary>The result of a list call.</summary>
public sealed record ListResult(IReadOnlyList<JsonObject> Items, string ResourceVersion, string? Continue, long? RemainingItemCount);

/// <summary>How a PATCH body is to be applied.</summary>
public enum PatchKind
{
    Json,
    Merge,
    StrategicMerge,
    Apply,
}

/// <summary>
/// The object store: JSON objects per group/resource, one global resourceVersion counter, bounded
/// per-resource event history for watches, and the lifecycle the real control plane adds
/// (finalizers, garbage collection by ownerReferences, namespace and CRD cleanup). One lock guards
/// everything, so every write and the events it produces are totally ordered.
/// </summary>
public sealed partial class ApiStore
{
    private readonly object _gate = new();
    private readonly int _historyCapacity;
    private readonly Dictionary<string, ResourceBucket> _buckets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ObjRef> _uids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ObjRef>> _dependents = new(StringComparer.Ordinal);
    private readonly Queue<ObjRef> _gcCandidates = new();
    private readonly HashSet<ObjRef> _pendingFinalization = [];

    /// <summary>Server-side apply ownership: object uid -> field manager -> owned leaf fields.</summary>
    private readonly Dictionary<string, Dictionary<string, Dictionary<string, ServerSideApply.FieldPath>>> _managed = new(StringComparer.Ordinal);
    private long _rv;
    private long _compactedThrough;
    private long _mutations;
    private volatile ResourceCatalog _catalog = ResourceCatalog.BuiltinsOnly;

    public ApiStore(int historyCapacity)
    {
        _historyCapacity = historyCapacity;
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            Create(Builtins.Namespaces, "", new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, new WriteContext());
        }
    }

    private readonly record struct ObjRef(string GroupResource, string Key);

    public ResourceCatalog Catalog => _catalog;

    public long ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _rv;
            }
        }
    }

    private static string Key(ResourceType t, string ns, string name) => t.Namespaced ? $"{ns}/{name}" : name;

    private ResourceBucket Bucket(string groupResource)
    {
        if (!_buckets.TryGetValue(groupResource, out var b))
        {
            b = new ResourceBucket(groupResource, _historyCapacity, _compactedThrough);
            _buckets[groupResource] = b;
        }

        return b;
    }

    private static JsonObject Output(ResourceType t, JsonObject stored)
    {
        var o = Json.Clone(stored);
        o["apiVersion"] = t.ApiVersion;
        o["kind"] = t.Kind;
        return o;
    }

    private JsonObject? Find(ObjRef r) =>
        _buckets.TryGetValue(r.GroupResource, out var b) && b.Items.TryGetValue(r.Key, out var o) ? o : null;

    private ResourceType StorageType(string groupResource) =>
        _catalog.StorageType(groupResource) ?? throw new InvalidOperationException($"no type serves {groupResource}");

    // ---------------------------------------------------------------- reads

    public JsonObject Get(ResourceType t, string ns, string name)
    {
        lock (_gate)
        {
            var b = Bucket(t.GroupResource);
            return b.Items.TryGetValue(Key(t, ns, name), out var o) ? Output(t, o) : throw ApiError.NotFound(t, name);
        }
    }

    public ListResult List(ResourceType t, string? ns, LabelSelector labels, FieldSelector fields, int? limit, string? continueToken)
    {
        lock (_gate)
        {
            var b = Bucket(t.GroupResource);
            string? after = null;
            if (!string.IsNullOrEmpty(continueToken))
            {
                try
                {
                    after = Encoding.UTF8.GetString(Convert.FromBase64String(continueToken));
                }
                catch (FormatException)
                {
                    throw ApiError.BadRequest("continue key is not valid: illegal base64 data");
                }
            }

            var prefix = t.Namespaced && !string.IsNullOrEmpty(ns) ? ns + "/" : null;
            var matching = b.Items
                .Where(kv => prefix is null || kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .Where(kv => after is null || string.CompareOrdinal(kv.Key, after) > 0)
                .Where(kv => labels.Matches(Json.Labels(kv.Value)) && fields.Matches(kv.Value))
                .ToList();
            var rv = Strategies.Rv(_rv);
            if (limit is > 0 && matching.Count > limit)
            {
                var page = matching.Take(limit.Value).ToList();
                var token = Convert.ToBase64String(Encoding.UTF8.GetBytes(page[^1].Key));
                return new ListResult(page.Select(kv => Output(t, kv.Value)).ToList(), rv, token, matching.Count - limit.Value);
            }

            return new ListResult(matching.Select(kv => Output(t, kv.Value)).ToList(), rv, null, null);
        }
    }

    // ---------------------------------------------------------------- writes

    public JsonObject Create(ResourceType t, string ns, JsonObject body, WriteContext ctx)
    {
        lock (_gate)
        {
            var result = CreateLocked(t, ns, body, ctx);
            Settle();
            return result;
        }
    }

    /// <param name="applied">The fields of a server-side apply that creates the object; null for a plain create.</param>
    private JsonObject CreateLocked(ResourceType t, string ns, JsonObject body, WriteContext ctx, Dictionary<string, ServerSideApply.FieldPath>? applied = null)
    {
        var obj = Json.Clone(body);
        CheckTypeMeta(t, obj);
        obj["apiVersion"] = StorageApiVersion(t);
        obj["kind"] = t.Kind;
        var meta = Json.Metadata(obj);
        if (t.Namespaced)
        {
            var bodyNs = Json.Str(meta, "namespace");
            if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
            {
                throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            meta["namespace"] = ns;
        }
        else
        {
            meta.Remove("namespace");
        }

        if (!string.IsNullOrEmpty(Json.Str(meta, "resourceVersion")))
        {
            throw ApiError.BadRequest("resourceVersion should not be set on objects to be created");
        }

        var b = Bucket(t.GroupResource);
        if (string.IsNullOrEmpty(Json.Str(meta, "name")) && Json.Str(meta, "generateName") is { Length: > 0 } generateName)
        {
            string candidate;
            do
            {
                candidate = generateName + Strategies.RandomSuffix();
            }
            while (b.Items.ContainsKey(Key(t, ns, candidate)));

            meta["name"] = candidate;
        }

        var name = Json.Name(obj);
        if (t.Namespaced)
        {
            CheckNamespaceAcceptsCreate(t, ns, name);
        }

        if (t.IsCustom && _pendingFinalization.Contains(new ObjRef(Builtins.Crds.GroupResource, t.GroupResource)))
        {
            throw new ApiError(405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating");
        }

        foreach (var field in new[] { "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink", "managedFields" })
        {
            meta.Remove(field);
        }

        Strategies.PrepareForCreate(t, obj, ctx);
        Schema.BuiltinValidation.CheckBuiltin(t, obj, ctx);
        var errors = Strategies.Validate(t, obj, null);
        if (errors.Count > 0)
        {
            throw ApiError.Invalid(t, name, errors);
        }

        var key = Key(t, ns, name);
        if (b.Items.ContainsKey(key))
        {
            throw ApiError.AlreadyExists(t, name);
        }

        meta = Json.Metadata(obj);
        meta["uid"] = Guid.NewGuid().ToString();
        meta["creationTimestamp"] = Json.Now();
        if (t.HasGeneration)
        {
            meta["generation"] = 1;
        }

        if (ctx.DryRun)
        {
            return Output(t, obj);
        }

        Own(t, Json.Uid(obj)!, null, obj, ctx.Manager, applied);
        Write(b, key, obj, null);
        if (t.GroupResource == Builtins.Crds.GroupResource)
        {
            RebuildCatalog();
        }

        return Output(t, obj);
    }

    public JsonObject Update(ResourceType t, string ns, string name, JsonObject body, string? subresource, WriteContext ctx)
    {
        lock (_gate)
        {
            var result = UpdateLocked(t, ns, name, body, subresource, ctx, requireResourceVersion: t.IsCustom);
            Settle();
            return result;
        }
    }

    /// <param name="applied">The fields of the server-side apply behind this update; null for a plain update or patch.</param>
    private JsonObject UpdateLocked(ResourceType t, string ns, string name, JsonObject body, string? subresource, WriteContext ctx, bool requireResourceVersion,
        Dictionary<string, ServerSideApply.FieldPath>? applied = null)
    {
        var b = Bucket(t.GroupResource);
        var key = Key(t, ns, name);
        if (!b.Items.TryGetValue(key, out var existing))
        {
            throw ApiError.NotFound(t, name);
        }

        CheckTypeMeta(t, body);
        var bodyMeta = body["metadata"] as JsonObject;
        var bodyName = Json.Str(bodyMeta, "name");
        if (!string.IsNullOrEmpty(bodyName) && bodyName != name)
        {
            throw ApiError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        var bodyNs = Json.Str(bodyMeta, "namespace");
        if (t.Namespaced && !string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
        {
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        var bodyRv = Json.Str(bodyMeta, "resourceVersion");
        if (string.IsNullOrEmpty(bodyRv))
        {
            if (requireResourceVersion)
            {
                throw ApiError.Invalid(t, name, [FieldError.InvalidText("metadata.resourceVersion", "0x0", "must be specified for an update")]);
            }
        }
        else if (bodyRv != Json.ResourceVersion(existing))
        {
            throw ApiError.StaleResourceVersion(t, name);
        }

        JsonObject updated;
        if (subresource == "status")
        {
            updated = Json.Clone(existing);
            if (body["status"] is { } status)
            {
                updated["status"] = status.DeepClone();
            }
            else
            {
                updated.Remove("status");
            }
        }
        else
        {
            updated = Json.Clone(body);
            var meta = Json.Metadata(updated);
            var oldMeta = Json.Metadata(existing);
            foreach (var field in new[] { "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name", "managedFields", "selfLink" })
            {
                if (oldMeta[field] is { } v)
                {
                    meta[field] = v.DeepClone();
                }
                else
                {
                    meta.Remove(field);
                }
            }

            if (t.HasStatus)
            {
                if (existing["status"] is { } oldStatus)
                {
                    updated["status"] = oldStatus.DeepClone();
                }
                else
                {
                    updated.Remove("status");
                }
            }
        }

        updated["apiVersion"] = existing["apiVersion"]?.DeepClone();
        updated["kind"] = t.Kind;
        Strategies.PrepareForUpdate(t, updated, existing, ctx);
        Schema.BuiltinValidation.CheckBuiltin(t, updated, ctx);
        var errors = Strategies.Validate(t, updated, existing);
        if (errors.Count > 0)
        {
            throw ApiError.Invalid(t, name, errors);
        }

        if (t.HasGeneration && !Json.SpecEquals(existing, updated, ignoreStatus: t.HasStatus))
        {
            Json.Metadata(updated)["generation"] = (Json.Int(existing["metadata"]?["generation"]) ?? 0) + 1;
        }

        Json.Metadata(updated)["resourceVersion"] = Json.ResourceVersion(existing);
        if (ctx.DryRun || (JsonNode.DeepEquals(updated, existing) && !(applied is not null && ApplyChangesOwnership(Json.Uid(existing), ctx.Manager, applied))))
        {
            // A no-op write is not persisted: same resourceVersion, no watch event (like the real server).
            return Output(t, ctx.DryRun ? updated : existing);
        }

        if (Json.Uid(existing) is { } uid)
        {
            Own(t, uid, existing, updated, ctx.Manager, applied);
        }

        Write(b, key, updated, existing);

        if (Json.IsTerminating(updated) && !Json.Finalizers(updated).Any() && !HasNamespaceFinalizers(updated))
        {
            RemoveNow(b, key);
        }

        if (t.GroupResource == Builtins.Crds.GroupResource)
        {
            RebuildCatalog();
        }

        return Output(t, updated);
    }

    public JsonObject Patch(ResourceType t, string ns, string name, PatchKind kind, string patchText, string? subresource, WriteContext ctx, bool force)
    {
        lock (_gate)
        {
            var b = Bucket(t.GroupResource);
            if (!b.Items.TryGetValue(Key(t, ns, name), out var existing))
            {
                if (kind == PatchKind.Apply && subresource is null)
                {
                    var applied = YamlJson.ParseObject(patchText);
                    var created = CreateLocked(t, ns, MetaWithName(applied, name), ctx, ServerSideApply.Leaves(t, applied));
                    Settle();
                    return created;
                }

                throw ApiError.NotFound(t, name);
            }

            if (kind == PatchKind.Apply && subresource is null)
            {
                var applied = ApplyLocked(t, ns, name, existing, YamlJson.ParseObject(patchText), ctx, force);
                Settle();
                return applied;
            }

            var current = Output(t, existing);
            JsonObject patched = kind switch
            {
                PatchKind.Json => JsonPatch.Apply(current, patchText),
                PatchKind.Merge => MergePatch.Apply(current, ParsePatchObject(patchText)) as JsonObject ?? new JsonObject(),
                PatchKind.StrategicMerge => StrategicMergePatch.Apply(current, ParsePatchObject(patchText)),
                PatchKind.Apply => ApplyConfiguration(t, current, YamlJson.ParseObject(patchText), force),
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
            if (Json.Metadata(patched)["resourceVersion"] is null)
            {
                Json.Metadata(patched)["resourceVersion"] = Json.ResourceVersion(existing);
            }

            var result = UpdateLocked(t, ns, name, patched, subresource, ctx, requireResourceVersion: false);
            Settle();
            return result;
        }
    }

    private static JsonObject MetaWithName(JsonObject obj, string name)
    {
        var meta = Json.Metadata(obj);
        if (string.IsNullOrEmpty(Json.Str(meta, "name")))
        {
            meta["name"] = name;
        }
        else if (Json.Str(meta, "name") != name)
        {
            throw ApiError.BadRequest($"the name of the object ({Json.Str(meta, "name")}) does not match the name on the URL ({name})");
        }

        return obj;
    }

    /// <summary>Apply to a subresource (status): merged with apply's list rules, without field ownership.</summary>
    private static JsonObject ApplyConfiguration(ResourceType t, JsonObject current, JsonObject applied, bool force)
    {
        _ = force;
        var patch = Json.Clone(applied);
        Json.Metadata(patch).Remove("resourceVersion");
        return ServerSideApply.Merge(t, current, patch);
    }

    /// <summary>
    /// Server-side apply to the main resource: conflicts with other apply managers (unless forced), removal of
    /// fields this manager applied before but no longer does (when nobody else owns them), then the merge.
    /// </summary>
    private JsonObject ApplyLocked(ResourceType t, string ns, string name, JsonObject existing, JsonObject applied, WriteContext ctx, bool force)
    {
        var manager = ctx.Manager;
        var uid = Json.Uid(existing) ?? "";
        var live = Output(t, existing);
        MetaWithName(applied, name);
        Json.Metadata(applied).Remove("resourceVersion");
        var leaves = ServerSideApply.Leaves(t, applied);
        var managers = _managed.GetValueOrDefault(uid) ?? new(StringComparer.Ordinal);

        var conflicts = new List<ServerSideApply.Conflict>();
        foreach (var (other, owned) in managers.Where(m => m.Key != manager))
        {
            foreach (var (text, path) in leaves)
            {
                if (owned.ContainsKey(text) && !JsonNode.DeepEquals(ServerSideApply.Get(live, path.Segments), ServerSideApply.Get(applied, path.Segments)))
                {
                    conflicts.Add(new ServerSideApply.Conflict(other, text));
                }
            }
        }

        if (conflicts.Count > 0 && !force)
        {
            throw ApplyConflict(t, conflicts);
        }

        var ownedByOthers = managers.Where(m => m.Key != manager)
            .SelectMany(m => m.Value.Keys.Where(k => !conflicts.Contains(new ServerSideApply.Conflict(m.Key, k))))
            .ToHashSet(StringComparer.Ordinal);
        var previous = managers.GetValueOrDefault(manager) ?? [];
        var stale = previous.Values.Where(p => !leaves.ContainsKey(p.Text) && !ownedByOthers.Contains(p.Text)).ToList();
        var stillOwned = new HashSet<string>(ownedByOthers.Concat(leaves.Keys), StringComparer.Ordinal);
        var result = Json.Clone(live);
        ServerSideApply.RemoveFields(result, stale, stillOwned);
        result = ServerSideApply.Merge(t, result, applied);
        Json.Metadata(result)["resourceVersion"] = Json.ResourceVersion(existing);

        // A forced apply changes the conflicting fields, so the update takes them from their owners.
        return UpdateLocked(t, ns, name, result, null, ctx, requireResourceVersion: false, applied: leaves);
    }

    private static ApiError ApplyConflict(ResourceType t, List<ServerSideApply.Conflict> conflicts)
    {
        string Who(string m) => $"\"{m}\" using {t.ApiVersion}";
        var byManager = conflicts.GroupBy(c => c.Manager).ToList();
        var text = conflicts.Count == 1
            ? $"conflict with {Who(conflicts[0].Manager)}: {conflicts[0].Path}"
            : byManager.Count == 1
                ? $"conflicts with {Who(byManager[0].Key)}:" + string.Concat(byManager[0].Select(c => "\n- " + c.Path))
                : "conflicts:" + string.Concat(byManager.Select(g => $"\n* {Who(g.Key)}:" + string.Concat(g.Select(c => "\n  - " + c.Path))));
        var causes = new JsonArray(conflicts.Select(c => (JsonNode?)new JsonObject
        {
            ["reason"] = "FieldManagerConflict",
            ["message"] = $"conflict with {Who(c.Manager)}",
            ["field"] = c.Path,
        }).ToArray());
        return new ApiError(409, "Conflict",
            $"Apply failed with {conflicts.Count} conflict{(conflicts.Count == 1 ? "" : "s")}: {text}",
            new JsonObject { ["causes"] = causes });
    }

    private static JsonObject ParsePatchObject(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw ApiError.BadRequest("the patch must be a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw ApiError.BadRequest($"error decoding patch: {e.Message}");
        }
    }

    public (JsonObject Body, bool Deleted) Delete(ResourceType t, string ns, string name, DeleteRequest request)
    {
        lock (_gate)
        {
            var b = Bucket(t.GroupResource);
            var key = Key(t, ns, name);
            if (!b.Items.TryGetValue(key, out var existing))
            {
                throw ApiError.NotFound(t, name);
            }

            if (request.PreconditionUid is { Length: > 0 } uid && uid != Json.Uid(existing))
            {
                throw ApiError.Conflict(t, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {Json.Uid(existing)}");
            }

            if (request.PreconditionResourceVersion is { Length: > 0 } rv && rv != Json.ResourceVersion(existing))
            {
                throw ApiError.Conflict(t, name, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {Json.ResourceVersion(existing)}");
            }

            if (request.DryRun)
            {
                return (Output(t, existing), false);
            }

            var (body, deleted) = DeleteLocked(b, key, request.PropagationPolicy);
            Settle();
            return (deleted && !t.ReturnDeletedObject ? ApiError.Success(name, t.Group, t.Plural, Json.Uid(existing)) : Output(t, body), deleted);
        }
    }

    public IReadOnlyList<JsonObject> DeleteCollection(ResourceType t, string? ns, LabelSelector labels, FieldSelector fields, DeleteRequest request)
    {
        lock (_gate)
        {
            var b = Bucket(t.GroupResource);
            var prefix = t.Namespaced && !string.IsNullOrEmpty(ns) ? ns + "/" : null;
            var keys = b.Items
                .Where(kv => prefix is null || kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .Where(kv => labels.Matches(Json.Labels(kv.Value)) && fields.Matches(kv.Value))
                .Select(kv => kv.Key)
                .ToList();
            var result = new List<JsonObject>();
            foreach (var key in keys)
            {
                if (!b.Items.TryGetValue(key, out var existing))
                {
                    continue;
                }

                if (request.DryRun)
                {
                    result.Add(Output(t, existing));
                    continue;
                }

                var (body, _) = DeleteLocked(b, key, request.PropagationPolicy);
                result.Add(Output(t, body));
            }

            Settle();
            return result;
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void CheckTypeMeta(ResourceType t, JsonObject obj)
    {
        var apiVersion = Json.Str(obj, "apiVersion");
        var kind = Json.Str(obj, "kind");
        if (!string.IsNullOrEmpty(kind) && kind != t.Kind)
        {
            throw ApiError.BadRequest($"the kind of the provided object ({kind}) does not match the expected kind ({t.Kind})");
        }

        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != t.ApiVersion && !(t.IsCustom && apiVersion.StartsWith(t.Group + "/", StringComparison.Ordinal)))
        {
            throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({t.ApiVersion})");
        }
    }

    private static string StorageApiVersion(ResourceType t) =>
        t.StorageVersion is { } sv ? $"{t.Group}/{sv}" : t.ApiVersion;

    private void CheckNamespaceAcceptsCreate(ResourceType t, string ns, string name)
    {
        var nsBucket = Bucket(Builtins.Namespaces.GroupResource);
        if (!nsBucket.Items.TryGetValue(ns, out var nsObj))
        {
            throw ApiError.NotFound(Builtins.Namespaces, ns);
        }

        if (Json.IsTerminating(nsObj))
        {
            var err = ApiError.Forbidden(t, name, $"unable to create new content in namespace {ns} because it is being terminated");
            err.Details!["causes"] = new JsonArray(new JsonObject
            {
                ["reason"] = "NamespaceTerminating",
                ["message"] = $"namespace {ns} is being terminated",
                ["field"] = "metadata.namespace",
            });
            throw err;
        }
    }

    private static bool HasNamespaceFinalizers(JsonObject obj) =>
        Json.Str(obj, "kind") == "Namespace" && obj["spec"]?["finalizers"] is JsonArray { Count: > 0 };

    private void RebuildCatalog()
    {
        var crds = Bucket(Builtins.Crds.GroupResource).Items.Values;
        _catalog = ResourceCatalog.With(crds);
    }

    /// <summary>Stores a new state of an object and publishes ADDED/MODIFIED.</summary>
    private void Write(ResourceBucket b, string key, JsonObject obj, JsonObject? previous)
    {
        _mutations++;
        var rv = ++_rv;
        Json.Metadata(obj)["resourceVersion"] = Strategies.Rv(rv);
        b.Items[key] = obj;
        var r = new ObjRef(b.GroupResource, key);
        if (Json.Uid(obj) is { } uid)
        {
            _uids[uid] = r;
        }

        var oldOwners = OwnerUids(previous);
        var newOwners = OwnerUids(obj);
        foreach (var o in oldOwners.Except(newOwners))
        {
            if (_dependents.TryGetValue(o, out var set))
            {
                set.Remove(r);
            }
        }

        foreach (var o in newOwners.Except(oldOwners))
        {
            if (!_dependents.TryGetValue(o, out var set))
            {
                _dependents[o] = set = [];
            }

            set.Add(r);
        }

        if (newOwners.Count > 0 && !newOwners.SetEquals(oldOwners))
        {
            _gcCandidates.Enqueue(r);
        }

        if (Json.IsTerminating(obj) && NeedsFinalization(b.GroupResource, obj))
        {
            _pendingFinalization.Add(r);
        }

        b.Publish(new StoredEvent(previous is null ? "ADDED" : "MODIFIED", obj, previous, rv));
    }

    /// <summary>Removes an object and publishes DELETED; its dependents become garbage-collection candidates.</summary>
    private void RemoveNow(ResourceBucket b, string key)
    {
        if (!b.Items.Remove(key, out var obj))
        {
            return;
        }

        _mutations++;
        var rv = ++_rv;
        var deleted = Json.Clone(obj);
        Json.Metadata(deleted)["resourceVersion"] = Strategies.Rv(rv);
        var r = new ObjRef(b.GroupResource, key);
        if (Json.Uid(obj) is { } uid)
        {
            _uids.Remove(uid);
            ForgetOwnership(uid);
            if (_dependents.Remove(uid, out var deps))
            {
                foreach (var d in deps)
                {
                    _gcCandidates.Enqueue(d);
                }
            }
        }

        foreach (var o in OwnerUids(obj))
        {
            if (_dependents.TryGetValue(o, out var set))
            {
                set.Remove(r);
            }
        }

        _pendingFinalization.Remove(r);
        b.Publish(new StoredEvent("DELETED", deleted, obj, rv));
        if (b.GroupResource == Builtins.Crds.GroupResource)
        {
            var gr = $"{Json.Str(obj["spec"]?["names"], "plural")}.{Json.Str(obj["spec"], "group")}";
            if (_buckets.Remove(gr, out var crBucket))
            {
                foreach (var w in crBucket.Watchers)
                {
                    w.End(abort: false);
                }
            }

            RebuildCatalog();
        }
    }

    private static HashSet<string> OwnerUids(JsonObject? obj) =>
        obj?["metadata"]?["ownerReferences"] is JsonArray refs
            ? refs.Select(r => Json.Str(r, "uid")).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];
}
