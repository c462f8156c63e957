namespace Appliance.Lab.Checker;

/// <summary>
/// Every write one workload run issued, appended by many clients at once and read by the checker afterwards
/// (or live, by the demo). It also carries what the checker needs to judge the run: the run's id range and
/// the bank it started with.
/// </summary>
public sealed partial class History
{
    /// <summary>Each run owns ids <c>[IdBase, IdBase + IdRange)</c>, so runs against one database never collide.</summary>
    public const long IdRange = 1_000_000_000;

    readonly object _lock = new();
    readonly List<Operation> _operations = [];
    TimeSpan? _stoppedAt;

    /// <summary>A history for the run owning ids from <paramref name="idBase"/>, whose bank started with <paramref name="accounts"/> × <paramref name="initialBalance"/>; <paramref name="origin"/> is the wall-clock time of elapsed zero, for display only.</summary>
    public History(long idBase, int accounts, long initialBalance, DateTimeOffset origin = default)
    {
        IdBase = idBase;
        Accounts = accounts;
        InitialBalance = initialBalance;
        Origin = origin;
    }

    public long IdBase { get; }
    public int Accounts { get; }
    public long InitialBalance { get; }
    public DateTimeOffset Origin { get; }

    /// <summary>Transfers only move money, so whatever happens the bank must still hold this much.</summary>
    public long ExpectedBankTotal => Accounts * InitialBalance;

    /// <summary>When the workload stopped issuing writes (elapsed); null while it runs. Ends the last write gap.</summary>
    public TimeSpan? StoppedAt
    {
        get { lock (_lock) return _stoppedAt; }
    }

    public int Count
    {
        get { lock (_lock) return _operations.Count; }
    }

    /// <summary>A copy, in the order the operations completed.</summary>
    public IReadOnlyList<Operation> Operations
    {
        get { lock (_lock) return [.. _operations]; }
    }

    public bool Contains(long id) => id >= IdBase && id < IdBase + IdRange;

    public void Add(Operation operation)
    {
        lock (_lock) _operations.Add(operation);
    }

    public void MarkStopped(TimeSpan at)
    {
        lock (_lock) _stoppedAt ??= at;
    }

    /// <summary>Walks the operations that completed most recently, newest first, under the lock (for live progress without copying).</summary>
    internal T ScanRecent<T>(Func<IEnumerable<Operation>, T> scan)
    {
        lock (_lock) return scan(Newest());

        IEnumerable<Operation> Newest()
        {
            for (int i = _operations.Count - 1; i >= 0; i--) yield return _operations[i];
        }
    }
}
