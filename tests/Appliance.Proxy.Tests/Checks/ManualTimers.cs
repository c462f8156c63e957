namespace Appliance.Proxy.Tests.Checks;

/// <summary>
/// A clock whose timers fire only when the test says: the check loop's waits (inter, fast_inter) become
/// visible (<see cref="Pending"/>: the due time of each live timer) and are ended one at a time
/// (<see cref="Fire"/>). The wall clock still reads real time.
/// </summary>
sealed class ManualTimers : TimeProvider
{
    readonly Lock _gate = new();
    readonly List<Timer> _live = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new Timer(this, callback, state, dueTime);
        lock (_gate) _live.Add(t);
        return t;
    }

    /// <summary>The due time of every timer neither fired nor disposed.</summary>
    public IReadOnlyList<TimeSpan> Pending
    {
        get
        {
            lock (_gate) return [.. _live.Select(t => t.Due)];
        }
    }

    /// <summary>Fires the one live timer (it must be due after <paramref name="due"/>), on the thread pool as a real timer would.</summary>
    public void Fire(TimeSpan due)
    {
        Timer t;
        lock (_gate)
        {
            t = Assert.Single(_live);
            Assert.Equal(due, t.Due);
            _live.Remove(t);
        }
        ThreadPool.QueueUserWorkItem(_ => t.Callback(t.State));
    }

    void Remove(Timer t)
    {
        lock (_gate) _live.Remove(t);
    }

    sealed class Timer(ManualTimers owner, TimerCallback callback, object? state, TimeSpan due) : ITimer
    {
        public TimerCallback Callback { get; } = callback;
        public object? State { get; } = state;
        public TimeSpan Due { get; private set; } = due;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Due = dueTime;
            return true;
        }

        public void Dispose() => owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
