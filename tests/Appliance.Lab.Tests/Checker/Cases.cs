using Appliance.Lab.Checker;

namespace Appliance.Lab.Tests.Checker;

/// <summary>Hand-made histories: nodes, times in seconds, and a bank of 5 accounts of 1000.</summary>
static class Cases
{
    public const long Base = 7 * Lab.Checker.History.IdRange;
    public static readonly ServedBy A1 = new("10.0.0.1:5432", 1);
    public static readonly ServedBy B1 = new("10.0.0.2:5432", 1);
    public static readonly ServedBy B2 = new("10.0.0.2:5432", 2);

    public static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    public static Operation Insert(long n, double start, double end, Outcome outcome = Outcome.Ok, ServedBy? by = null)
        => Operation.Insert(1, Base + n, S(start), S(end), outcome, outcome == Outcome.Ok ? by ?? A1 : null);

    public static Operation Transfer(double start, double end, Outcome outcome = Outcome.Ok, ServedBy? by = null)
        => Operation.Transfer(3, 1, 2, 10, S(start), S(end), outcome, outcome == Outcome.Ok ? by ?? A1 : null);

    public static Lab.Checker.History History(params Operation[] ops)
    {
        var h = new Lab.Checker.History(Base, accounts: 5, initialBalance: 1000);
        foreach (var o in ops) h.Add(o);
        return h;
    }

    public static FinalState Final(IEnumerable<long> ids, params long[] balances)
        => new("test", ids.Select(n => Base + n).ToHashSet(),
            (balances.Length == 0 ? [1000, 1000, 1000, 1000, 1000] : balances).Select((b, i) => (i + 1, b)).ToDictionary(x => x.Item1, x => x.b));
}
