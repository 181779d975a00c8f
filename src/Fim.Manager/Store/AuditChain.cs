using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Fim.Manager.Store;

/// <summary>
/// The audit log's hash chain. hash(n) = SHA-256(bytes of hash(n-1) || canonical(row n)), with 32 zero bytes before
/// row 1. canonical(row) is, for each of sequence, time (microseconds since the Unix epoch), actor, auth method,
/// action, target, detail and outcome in that order: the field's UTF-8 bytes (numbers in decimal ASCII) preceded by
/// their length as a 4-byte big-endian integer. Hashes are kept as lower-case hex. The sequence is inside the hash, so
/// a row moved to another place no longer verifies there.
/// </summary>
public static class AuditChain
{
    public static readonly string Genesis = new('0', 64);

    /// <summary>How far from its place a moved row is looked for, to tell a reordering or insertion from an edit.</summary>
    private const int MoveWindow = 64;

    public static string Hash(string previousHash, long sequence, AuditDraft row)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Convert.FromHexString(previousHash));
        sha.AppendData(Canonical(sequence, row));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public static byte[] Canonical(long sequence, AuditDraft row)
    {
        string[] fields =
        [
            sequence.ToString(CultureInfo.InvariantCulture), row.AtMicros.ToString(CultureInfo.InvariantCulture),
            row.Actor, row.AuthMethod, row.Action, row.Target, row.Detail, row.Outcome,
        ];
        var buffer = new List<byte>(256);
        Span<byte> length = stackalloc byte[4];
        foreach (var field in fields)
        {
            var bytes = Encoding.UTF8.GetBytes(field);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            buffer.AddRange(length);
            buffer.AddRange(bytes);
        }
        return [.. buffer];
    }

    /// <summary>Text columns cannot hold NUL on PostgreSQL: it is written as the two characters \0, on both backends alike.</summary>
    public static AuditDraft Clean(AuditDraft d) => d with
    {
        Actor = NoNul(d.Actor),
        AuthMethod = NoNul(d.AuthMethod),
        Action = NoNul(d.Action),
        Target = NoNul(d.Target),
        Detail = NoNul(d.Detail),
        Outcome = NoNul(d.Outcome),
    };

    private static string NoNul(string s) => s.Contains('\0') ? s.Replace("\0", "\\0", StringComparison.Ordinal) : s;

    /// <summary>
    /// Checks every row and the checkpoint. The first problem is reported with the most likely cause: a gap or a row
    /// chained to a missing one is "deleted", a row whose content does not match its hash is "edited", a row that verifies
    /// only under a later sequence is "reordered" (or "deleted" when what it followed is gone), under an earlier one
    /// "inserted"; a checkpoint past the last row is "truncated".
    /// </summary>
    public static AuditVerification Verify(IReadOnlyList<AuditRecord> rows, AuditCheckpoint? checkpoint)
    {
        var byHash = new Dictionary<string, AuditRecord>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            byHash.TryAdd(row.Hash, row);
        }
        long previousSequence = 0;
        var previousHash = Genesis;
        foreach (var row in rows)
        {
            var fail = Check(row, previousSequence, previousHash, byHash);
            if (fail is { } f)
            {
                return new AuditVerification(false, rows.Count, previousSequence, previousHash, checkpoint?.Sequence ?? 0, f.Sequence, f.Problem, f.Detail);
            }
            previousSequence = row.Sequence;
            previousHash = row.Hash;
        }
        if (checkpoint is { } cp)
        {
            if (cp.Sequence > previousSequence)
            {
                return new AuditVerification(false, rows.Count, previousSequence, previousHash, cp.Sequence, previousSequence + 1, "truncated",
                    $"the log ends at sequence {previousSequence} but the checkpoint records sequence {cp.Sequence}: the last rows were deleted");
            }
            if (cp.Sequence > 0 && !string.Equals(rows[(int)(cp.Sequence - 1)].Hash, cp.Hash, StringComparison.Ordinal))
            {
                return new AuditVerification(false, rows.Count, previousSequence, previousHash, cp.Sequence, cp.Sequence, "edited",
                    $"sequence {cp.Sequence}'s hash is not the one the checkpoint records: the chain was rewritten up to it");
            }
        }
        return new AuditVerification(true, rows.Count, previousSequence, previousHash, checkpoint?.Sequence ?? 0, 0, "", "");
    }

    private static (long Sequence, string Problem, string Detail)? Check(AuditRecord row, long previousSequence, string previousHash,
        Dictionary<string, AuditRecord> byHash)
    {
        var expected = previousSequence + 1;
        if (row.Sequence > expected)
        {
            var missing = row.Sequence - 1 > expected ? $"sequences {expected}..{row.Sequence - 1} are" : $"sequence {expected} is";
            return (expected, "deleted", $"{missing} missing: the row after {previousSequence} is {row.Sequence}");
        }
        if (row.Sequence < expected)
        {
            return (row.Sequence, "inserted", $"sequence {row.Sequence} appears twice");
        }
        if (!IsHash(row.PreviousHash) || !IsHash(row.Hash))
        {
            return (row.Sequence, "edited", $"sequence {row.Sequence}: its hash or previous hash is not a SHA-256 in hex");
        }
        var draft = row.Draft;
        if (!string.Equals(Hash(row.PreviousHash, row.Sequence, draft), row.Hash, StringComparison.Ordinal))
        {
            var written = WrittenAs(row, draft);
            if (written is not { } s)
            {
                return (row.Sequence, "edited", $"sequence {row.Sequence}: its content does not match its hash");
            }
            if (s < row.Sequence)
            {
                return (s, "inserted", $"sequence {row.Sequence} holds the entry written as sequence {s}: {row.Sequence - s} row(s) were inserted before it");
            }
            return byHash.ContainsKey(row.PreviousHash)
                ? (row.Sequence, "reordered", $"sequence {row.Sequence} holds the entry written as sequence {s}")
                : (row.Sequence, "deleted", $"sequence {row.Sequence} holds the entry written as sequence {s}: rows before it were deleted and the rest renumbered");
        }
        if (!string.Equals(row.PreviousHash, previousHash, StringComparison.Ordinal))
        {
            if (byHash.TryGetValue(row.PreviousHash, out var chainedTo))
            {
                return chainedTo.Sequence > row.Sequence
                    ? (row.Sequence, "reordered", $"sequence {row.Sequence} is chained after sequence {chainedTo.Sequence}, which comes later")
                    : (chainedTo.Sequence + 1, "inserted", $"sequences {chainedTo.Sequence + 1}..{previousSequence} are not part of the chain: sequence {row.Sequence} follows {chainedTo.Sequence}");
            }
            return previousSequence == 0
                ? (row.Sequence, "edited", $"sequence {row.Sequence} does not start the chain (its previous hash is not the zero hash)")
                : (previousSequence, "edited", $"sequence {previousSequence} was changed: its hash is not the one sequence {row.Sequence} was chained to");
        }
        return null;
    }

    private static bool IsHash(string text) => text.Length == 64 && text.All(char.IsAsciiHexDigitLower);

    /// <summary>The sequence near its place under which the row verifies, when it is not its own (a moved row).</summary>
    private static long? WrittenAs(AuditRecord row, AuditDraft draft)
    {
        for (var d = 1; d <= MoveWindow; d++)
        {
            foreach (var s in (long[])[row.Sequence + d, row.Sequence - d])
            {
                if (s >= 1 && string.Equals(Hash(row.PreviousHash, s, draft), row.Hash, StringComparison.Ordinal))
                {
                    return s;
                }
            }
        }
        return null;
    }
}

/// <summary>The outcome of a verification; when not <see cref="Ok"/>, the first bad sequence and why.</summary>
public sealed record AuditVerification(bool Ok, long Rows, long LastSequence, string LastHash, long CheckpointSequence,
    long FirstBadSequence, string Problem, string Detail);
