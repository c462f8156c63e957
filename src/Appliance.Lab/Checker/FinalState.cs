namespace Appliance.Lab.Checker;

/// <summary>
/// What one database holds after the scenario, restricted to the run's id range: the evidence the checker
/// holds the history against. <c>Source</c> says where it was read (host:port, primary or replica), for the report.
/// </summary>
public sealed record FinalState(string Source, IReadOnlySet<long> InsertIds, IReadOnlyDictionary<int, long> Balances)
{
    public long BankTotal => Balances.Values.Sum();
}
