using System.Xml.Linq;
using Fim.Contracts;
using Fim.Manager.Nats;
using Microsoft.AspNetCore.DataProtection.Repositories;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Security;

/// <summary>
/// The Data Protection key ring that protects browser session cookies and antiforgery tokens, kept in KV
/// fim-console-keys: managers behind a load balancer read each other's cookies, and a restarted or replaced manager
/// keeps its users signed in. Without it each process made its own keys in memory, so a browser sent to another
/// manager (or to the same one after a restart) was asked to sign in again and its console circuit failed.
/// Only managers' NATS users may read the bucket (the keys are not encrypted at rest apart from JetStream's own
/// encryption, which the NATS server can enable).
/// </summary>
public sealed class SharedKeyRing(NatsConnector nats, ILogger<SharedKeyRing> log) : IXmlRepository
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // IXmlRepository is synchronous; Data Protection calls it rarely (start, then when the ring is refreshed or a key
    // is added) and never on a request's hot path after that, so blocking a pool thread here is the interface's cost.
#pragma warning disable VSTHRD002
    public IReadOnlyCollection<XElement> GetAllElements() => Task.Run(ReadAllAsync).GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) => Task.Run(() => StoreAsync(element, friendlyName)).GetAwaiter().GetResult();
#pragma warning restore VSTHRD002

    private async Task<IReadOnlyCollection<XElement>> ReadAllAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var store = await StoreAsync(timeout.Token);
        var elements = new List<XElement>();
        try
        {
            await foreach (var key in store.GetKeysAsync(cancellationToken: timeout.Token))
            {
                var entry = await store.TryGetEntryAsync<string>(key, cancellationToken: timeout.Token);
                if (entry.Success && entry.Value.Value is { Length: > 0 } xml)
                {
                    elements.Add(XElement.Parse(xml));
                }
            }
        }
        catch (NatsKVException)
        {
            // An empty bucket: no keys yet, Data Protection makes the first and stores it.
        }
        return elements;
    }

    private async Task StoreAsync(XElement element, string friendlyName)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var store = await StoreAsync(timeout.Token);
        // Create, never overwrite: a key's id is unique, and a second writer of the same name is a bug to surface.
        await store.CreateAsync(KeyName(friendlyName), element.ToString(SaveOptions.DisableFormatting), cancellationToken: timeout.Token);
        log.LogInformation("Console key ring: stored key {Name} in KV {Bucket}", friendlyName, Subjects.ConsoleKeysBucket);
    }

    private async Task<INatsKVStore> StoreAsync(CancellationToken cancellationToken)
    {
        var kv = await nats.KeyValueAsync(cancellationToken);
        try
        {
            return await kv.GetStoreAsync(Subjects.ConsoleKeysBucket, cancellationToken);
        }
        catch (Exception e) when (e is NatsKVException or NatsJSApiException)
        {
            return await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(Subjects.ConsoleKeysBucket)
            {
                Description = "FimOperator browser session keys (ASP.NET Core Data Protection key ring; managers only)",
                History = 1,
                Storage = NatsKVStorageType.File,
            }, cancellationToken);
        }
    }

    /// <summary>A KV key from Data Protection's friendly name ("key-&lt;guid&gt;"): only the characters KV keys allow.</summary>
    public static string KeyName(string friendlyName) =>
        new([.. friendlyName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
}
