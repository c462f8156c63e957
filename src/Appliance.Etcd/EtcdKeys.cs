using System.Text.RegularExpressions;

namespace Appliance.Etcd;

/// <summary>
/// The key schema, all of it: Patroni 3's layout under <c>/&lt;namespace&gt;/&lt;scope&gt;/</c>
/// (patroni/dcs/__init__.py, <c>AbstractDCS.__init__</c> and <c>client_path</c>), so patronictl reads
/// and writes the same keys we do.
/// </summary>
public sealed partial class EtcdKeys
{
    /// <summary>Patroni's key names (<c>AbstractDCS._INITIALIZE</c> and friends).</summary>
    public const string InitializeName = "initialize";
    public const string ConfigName = "config";
    public const string LeaderName = "leader";
    public const string MembersDir = "members/";
    public const string HistoryName = "history";
    public const string StatusName = "status";
    public const string FailoverName = "failover";
    public const string SyncName = "sync";
    /// <summary>Where Patroni before 2.1 kept the leader's optime; read when <c>status</c> is absent.</summary>
    public const string LegacyLeaderOptimeName = "optime/leader";

    /// <param name="namespace">Patroni's <c>namespace</c>; "service" and "/service" mean the same, as in Patroni.</param>
    /// <param name="scope">The cluster name.</param>
    public EtcdKeys(string @namespace, string scope)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        // Patroni: re.sub('/+', '/', '/'.join(['', namespace, scope])) — leading slash, runs of slashes collapsed.
        var ns = string.IsNullOrEmpty(@namespace) ? "service" : @namespace;
        BasePath = Slashes().Replace($"/{ns}/{scope}", "/");
        Prefix = BasePath + "/";
    }

    /// <summary><c>/service/scope</c> (no trailing slash).</summary>
    public string BasePath { get; }
    /// <summary><c>/service/scope/</c>: the range every cluster key lives in.</summary>
    public string Prefix { get; }

    public string Initialize => Prefix + InitializeName;
    public string Config => Prefix + ConfigName;
    public string Leader => Prefix + LeaderName;
    public string Members => Prefix + MembersDir;
    public string History => Prefix + HistoryName;
    public string Status => Prefix + StatusName;
    public string Failover => Prefix + FailoverName;
    public string Sync => Prefix + SyncName;

    /// <summary><c>/service/scope/members/name</c></summary>
    public string Member(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return Members + name;
    }

    /// <summary>
    /// The member name of a key directly under <c>members/</c>, or null for any other key (Patroni
    /// takes only <c>members/x</c> with no further slash).
    /// </summary>
    public string? MemberNameOf(string key)
    {
        if (!key.StartsWith(Members, StringComparison.Ordinal)) return null;
        var name = key[Members.Length..];
        return name.Length == 0 || name.Contains('/', StringComparison.Ordinal) ? null : name;
    }

    /// <summary>The end of the prefix range: the prefix with its last byte incremented (etcd's <c>WithPrefix</c>).</summary>
    public static byte[] RangeEnd(ReadOnlySpan<byte> prefix)
    {
        var end = prefix.ToArray();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }
        return [0]; // all 0xff: the range runs to the end of the key space
    }

    [GeneratedRegex("/+")]
    private static partial Regex Slashes();
}
