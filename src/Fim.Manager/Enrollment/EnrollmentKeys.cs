using Fim.Nats;
using Fim.Nats.Identity;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Enrollment;

/// <summary>The operator and account keys from their seed files, read once; the seeds themselves never leave this type.</summary>
public sealed class EnrollmentKeys(IOptions<EnrollmentOptions> options)
{
    private readonly Lazy<NatsAccountIssuer> _issuer = new(() =>
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            throw new InvalidOperationException($"enrollment is not enabled ({EnrollmentOptions.Section}:Enabled)");
        }
        return new NatsAccountIssuer(NKeySeedFile.Read(o.OperatorSeedFile!), NKeySeedFile.Read(o.AccountSeedFile!));
    });

    public NatsAccountIssuer Issuer => _issuer.Value;
}
