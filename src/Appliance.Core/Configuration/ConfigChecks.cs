using System.Globalization;

namespace Appliance.Configuration;

/// <summary>Format checks of single values. Each returns null when the value is fine, or "expected ..., found ..." when not.</summary>
internal static class ConfigChecks
{
    /// <summary>A member or cluster name: it becomes one segment of an etcd key (<c>/service/scope/members/name</c>), so it may not be empty or hold a '/'.</summary>
    public static string? Name(string value) =>
        value.Length == 0 ? "expected a non-empty name, found an empty string"
        : value.Contains('/') ? $"expected a name without '/' (it is one segment of an etcd key), found {TomlWriter.Quote(value)}"
        : null;

    /// <summary>One of a fixed set of words.</summary>
    public static Func<string, string?> OneOf(params string[] allowed) => value =>
        allowed.Contains(value, StringComparer.Ordinal) ? null
        : $"expected one of {string.Join(", ", allowed.Select(TomlWriter.Quote))}, found {TomlWriter.Quote(value)}";

    /// <summary>Any non-empty string.</summary>
    public static string? NotEmpty(string value) => value.Length == 0 ? "expected a non-empty string, found an empty string" : null;

    /// <summary><c>host:port</c>, where host is a name, an IPv4 address or a bracketed IPv6 address, and port is 1-65535.</summary>
    public static string? HostPort(string value) =>
        IsHostPort(value) ? null : $"expected host:port (port 1-65535, IPv6 in brackets), found {TomlWriter.Quote(value)}";

    /// <summary>An <c>http://host:port</c> or <c>https://host:port</c> URL (optionally ending in '/'), as etcd client URLs are written.</summary>
    public static string? EndpointUrl(string value)
    {
        var rest = value.StartsWith("http://", StringComparison.Ordinal) ? value["http://".Length..]
            : value.StartsWith("https://", StringComparison.Ordinal) ? value["https://".Length..]
            : null;
        if (rest is not null && rest.EndsWith('/'))
            rest = rest[..^1];
        return rest is not null && IsHostPort(rest)
            ? null
            : $"expected an http:// or https:// URL with a host and a port, such as \"http://10.0.0.1:2379\", found {TomlWriter.Quote(value)}";
    }

    /// <summary>A name used as a metric label and a script argument: letters, digits, '_', '-', '.'.</summary>
    public static string? Label(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') ? null
        : $"expected a non-empty name of letters, digits, '_', '-' or '.', found {TomlWriter.Quote(value)}";

    /// <summary>A Linux interface name: 1-15 bytes (IFNAMSIZ - 1), no '/', ':' or white space.</summary>
    public static string? InterfaceName(string value) =>
        value.Length is > 0 and <= 15 && !value.Any(c => c is '/' or ':' || char.IsWhiteSpace(c) || char.IsControl(c)) ? null
        : $"expected an interface name of 1 to 15 characters without '/', ':' or spaces, found {TomlWriter.Quote(value)}";

    /// <summary>A dotted-quad IPv4 address.</summary>
    public static string? Ipv4(string value) =>
        Net.Ipv4Address.TryParse(value, out _) ? null : $"expected an IPv4 address such as \"10.0.0.1\", found {TomlWriter.Quote(value)}";

    /// <summary>An IPv4 address with its prefix length, <c>10.0.0.100/24</c>: the prefix is what the address is added with.</summary>
    public static string? Ipv4WithPrefix(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && Net.Ipv4Address.TryParse(value[..slash], out _)
            && value[(slash + 1)..] is { Length: > 0 and <= 2 } prefix && prefix.All(char.IsAsciiDigit)
            && int.Parse(prefix, CultureInfo.InvariantCulture) <= 32
            ? null
            : $"expected an IPv4 address with its prefix length such as \"10.0.0.100/24\", found {TomlWriter.Quote(value)}";
    }

    /// <summary>An Ethernet address as <c>ip link</c> prints it: six pairs of hex digits separated by ':'.</summary>
    public static string? Mac(string value) =>
        value.Split(':') is { Length: 6 } parts && parts.All(p => p.Length == 2 && p.All(char.IsAsciiHexDigit)) ? null
        : $"expected a MAC address such as \"52:54:00:12:34:56\", found {TomlWriter.Quote(value)}";

    /// <summary>A host name (RFC 1123 labels: letters, digits, '-', not at either end; at most 63 bytes each, 253 in all).</summary>
    public static string? Hostname(string value) =>
        value.Length is > 0 and <= 253 && value.Split('.').All(l => l.Length is > 0 and <= 63 && l[0] != '-' && l[^1] != '-' && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            ? null
            : $"expected a host name of letters, digits and '-' (dot-separated labels of at most 63), found {TomlWriter.Quote(value)}";

    /// <summary>One member of etcd's initial cluster: <c>name=http://host:port</c>.</summary>
    public static string? EtcdPeer(string value)
    {
        var eq = value.IndexOf('=', StringComparison.Ordinal);
        return eq > 0 && Name(value[..eq]) is null && EndpointUrl(value[(eq + 1)..]) is null ? null
            : $"expected name=http://address:port, such as \"db1=http://10.0.0.11:2380\", found {TomlWriter.Quote(value)}";
    }

    private static bool IsHostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0)
            return false;
        var host = value[..colon];
        var port = value[(colon + 1)..];
        if (port.Length is 0 or > 5 || !port.All(char.IsAsciiDigit)
            || int.Parse(port, CultureInfo.InvariantCulture) is < 1 or > 65535)
            return false;
        if (host.StartsWith('['))
            return host.EndsWith(']') && System.Net.IPAddress.TryParse(host[1..^1], out var v6)
                && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        // A host name or IPv4 address: no spaces, slashes, '@' or stray colons (an unbracketed IPv6).
        return host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
    }
}
