namespace Fim.Manager.Store;

/// <summary>
/// The review trail's writes on the alert store (both backends): one review row per alert (alert_reviews), upserted,
/// so a later review replaces an earlier one. Only stored alerts get a review; retention removes the reviews of the
/// alerts it removes. Searches read reviews through <see cref="AlertQuery.ReviewState"/> and <see cref="AlertRow.Review"/>.
/// </summary>
public interface IAlertReviews
{
    /// <summary>The stored alerts among <paramref name="alertIds"/> (any order; unknown ids are left out).</summary>
    Task<IReadOnlyList<AlertRow>> GetAlertsAsync(IReadOnlyList<string> alertIds, CancellationToken cancellationToken);

    /// <summary>Sets the review of those of <paramref name="alertIds"/> that are stored, in one transaction; returns how many.</summary>
    Task<long> ReviewAsync(IReadOnlyList<string> alertIds, StoredReview review, CancellationToken cancellationToken);

    /// <summary>Sets the review of every alert <paramref name="query"/> matches (its cursor and limit ignored), in one statement; returns how many.</summary>
    Task<long> ReviewMatchingAsync(AlertQuery query, StoredReview review, CancellationToken cancellationToken);
}
