using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Appliance.Configuration;

/// <summary>How one kind of value is read from TOML (checked, with a clear error) and written back as TOML text.</summary>
internal abstract class ValueKind<TValue>
{
    /// <summary>Reads <paramref name="node"/>; on a wrong type, range or format, adds an error at the value and returns false.</summary>
    public abstract bool TryRead(TomlNode node, string path, ErrorList errors, [MaybeNullWhen(false)] out TValue value);

    /// <summary>The value as TOML text, or null when it is not set (printed as a comment).</summary>
    public abstract string? Format(TValue value);

    protected static bool Fail<TAny>(TomlNode node, string path, ErrorList errors, string message, [MaybeNullWhen(false)] out TAny value)
    {
        errors.Add(node.Location, path, message);
        value = default;
        return false;
    }

    protected static bool ReadString(TomlNode node, string path, ErrorList errors, Func<string, string?>? check, [MaybeNullWhen(false)] out string value)
    {
        if (node is not TomlScalar { Kind: TomlScalarKind.String, Value: string text })
            return Fail(node, path, errors, $"expected a string, found {ValueText.Describe(node)}", out value);
        if (check?.Invoke(text) is { } problem)
            return Fail(node, path, errors, problem, out value);
        value = text;
        return true;
    }

    protected static bool ReadInteger(TomlNode node, string path, ErrorList errors, long min, long max, out long value)
    {
        if (node is not TomlScalar { Kind: TomlScalarKind.Integer, Value: long number })
            return Fail(node, path, errors, $"expected an integer, found {ValueText.Describe(node)}", out value);
        if (number < min || number > max)
        {
            var range = max == int.MaxValue || max == long.MaxValue ? $"of at least {min}" : $"from {min} to {max}";
            return Fail(node, path, errors, $"expected an integer {range}, found {number}", out value);
        }
        value = number;
        return true;
    }
}

/// <summary>A string that must be present when written (it has a non-null default); an empty one (a key another role requires, never set) prints as not set.</summary>
internal sealed class StringKind(Func<string, string?>? check = null) : ValueKind<string>
{
    public override bool TryRead(TomlNode node, string path, ErrorList errors, [MaybeNullWhen(false)] out string value) =>
        ReadString(node, path, errors, check, out value);

    public override string? Format(string value) => value.Length == 0 ? null : TomlWriter.Quote(value);
}

/// <summary>A string that may be unset (null); a secret one prints as <see cref="ConfigPrinter.Mask"/>.</summary>
internal sealed class OptionalStringKind(Func<string, string?>? check = null, bool secret = false) : ValueKind<string?>
{
    public override bool TryRead(TomlNode node, string path, ErrorList errors, out string? value) =>
        ReadString(node, path, errors, check, out value);

    public override string? Format(string? value) =>
        value is null ? null : TomlWriter.Quote(secret ? ConfigPrinter.Mask : value);
}

/// <summary>A 32-bit integer in [min, max].</summary>
internal sealed class Int32Kind(int min, int max = int.MaxValue) : ValueKind<int>
{
    public override bool TryRead(TomlNode node, string path, ErrorList errors, out int value)
    {
        var ok = ReadInteger(node, path, errors, min, max, out var number);
        value = (int)number;
        return ok;
    }

    public override string? Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A 64-bit integer in [min, max].</summary>
internal sealed class Int64Kind(long min, long max = long.MaxValue) : ValueKind<long>
{
    public override bool TryRead(TomlNode node, string path, ErrorList errors, out long value) =>
        ReadInteger(node, path, errors, min, max, out value);

    public override string? Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A 64-bit integer in [min, max] that may be unset (null, printed as a comment).</summary>
internal sealed class OptionalInt64Kind(long min, long max = long.MaxValue) : ValueKind<long?>
{
    public override bool TryRead(TomlNode node, string path, ErrorList errors, out long? value)
    {
        var ok = ReadInteger(node, path, errors, min, max, out var number);
        value = ok ? number : null;
        return ok;
    }

    public override string? Format(long? value) => value?.ToString(CultureInfo.InvariantCulture);
}

/// <summary>true or false.</summary>
internal sealed class BooleanKind : ValueKind<bool>
{
    public override bool TryRead(TomlNode node, string path, ErrorList errors, out bool value)
    {
        if (node is TomlScalar { Kind: TomlScalarKind.Boolean, Value: bool flag })
        {
            value = flag;
            return true;
        }
        return Fail(node, path, errors, $"expected a boolean (true or false), found {ValueText.Describe(node)}", out value);
    }

    public override string? Format(bool value) => value ? "true" : "false";
}

/// <summary>An array of strings; every element is checked, and an error points at the element.</summary>
internal sealed class StringListKind(int minCount = 0, Func<string, string?>? check = null) : ValueKind<IReadOnlyList<string>>
{
    public override bool TryRead(TomlNode node, string path, ErrorList errors, [MaybeNullWhen(false)] out IReadOnlyList<string> value)
    {
        if (node is not TomlArray array)
            return Fail(node, path, errors, $"expected an array of strings, found {ValueText.Describe(node)}", out value);
        if (array.Items.Count < minCount)
            return Fail(node, path, errors, $"expected at least {minCount} element(s), found an empty array", out value);

        var items = new List<string>(array.Items.Count);
        var ok = true;
        foreach (var item in array.Items)
        {
            if (ReadString(item, path, errors, check, out var text))
                items.Add(text);
            else
                ok = false;
        }
        value = items;
        return ok;
    }

    public override string? Format(IReadOnlyList<string> value) =>
        value.Count == 0 ? "[]" : "[\n" + string.Concat(value.Select(v => $"  {TomlWriter.Quote(v)},\n")) + "]";
}

/// <summary>
/// A duration in seconds, written as an integer (<c>1</c>) or a float (<c>0.1</c>), to a precision of
/// a centisecond (VRRPv3's unit), from <paramref name="minCs"/> to <paramref name="maxCs"/> centiseconds.
/// </summary>
internal sealed class SecondsKind(int minCs, int maxCs) : ValueKind<TimeSpan>
{
    public override bool TryRead(TomlNode node, string path, ErrorList errors, out TimeSpan value)
    {
        double seconds;
        if (node is TomlScalar { Kind: TomlScalarKind.Integer, Value: long whole })
            seconds = whole;
        else if (node is TomlScalar { Kind: TomlScalarKind.Float, Value: double f } && double.IsFinite(f))
            seconds = f;
        else
            return Fail(node, path, errors, $"expected a number of seconds (such as 1 or 0.5), found {ValueText.Describe(node)}", out value);

        var cs = Math.Round(seconds * 100);
        var range = $"from {Format(minCs)} to {Format(maxCs)} seconds";
        if (Math.Abs(seconds * 100 - cs) > 1e-6)
            return Fail(node, path, errors, $"expected seconds to a precision of 0.01 ({range}), found {seconds.ToString("R", CultureInfo.InvariantCulture)}", out value);
        if (cs < minCs || cs > maxCs)
            return Fail(node, path, errors, $"expected {range}, found {seconds.ToString("R", CultureInfo.InvariantCulture)}", out value);
        value = TimeSpan.FromMilliseconds(cs * 10);
        return true;
    }

    public override string? Format(TimeSpan value) => Format((int)Math.Round(value.TotalMilliseconds / 10));

    private static string Format(int centiseconds) =>
        centiseconds % 100 == 0
            ? (centiseconds / 100).ToString(CultureInfo.InvariantCulture)
            : (centiseconds / 100.0).ToString("R", CultureInfo.InvariantCulture);
}
