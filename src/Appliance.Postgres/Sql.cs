namespace Appliance.Postgres;

/// <summary>SQL quoting for the few statements that cannot take parameters (utility commands like CREATE ROLE).</summary>
static class Sql
{
    /// <summary>A double-quoted identifier.</summary>
    public static string Ident(string name)
    {
        RefuseNul(name);
        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>
    /// An escape string literal (<c>E'...'</c>) with <c>\</c> and <c>'</c> escaped: correct whatever
    /// <c>standard_conforming_strings</c> says.
    /// </summary>
    public static string Literal(string value)
    {
        RefuseNul(value);
        return "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    static void RefuseNul(string s)
    {
        if (s.Contains('\0', StringComparison.Ordinal)) throw new ArgumentException("PostgreSQL strings cannot hold NUL characters");
    }
}
