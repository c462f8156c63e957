namespace Appliance.Proxy.Tests.Pools;

/// <summary>A clock that moves only when the test says so; its timers fire on <see cref="Advance"/>.</summary>
public sealed class ManualTime : TimeProvider
{
    readonly object _gate = new();
    readonly List<ManualTimer> _timers = [];
    DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() { lock (_gate) return _now; }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new ManualTimer(this, callback, state);
        t.Change(dueTime, period);
        return t;
    }

    /// <summary>Moves the clock and fires the timers that fall due, in order.</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset end;
        lock (_gate) end = _now + by;
        while (true)
        {
            ManualTimer? due;
            lock (_gate)
            {
                due = _timers.Where(t => t.Due <= end).OrderBy(t => t.Due).FirstOrDefault();
                if (due is null) { _now = end; return; }
                _now = due.Due!.Value;
                _timers.Remove(due);
                if (due.Period > TimeSpan.Zero) { due.Due = _now + due.Period; _timers.Add(due); }
                else due.Due = null;
            }
            due.Fire();
        }
    }

    sealed class ManualTimer(ManualTime time, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }
        public TimeSpan Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (time._gate)
            {
                time._timers.Remove(this);
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : time._now + dueTime;
                if (Due is not null) time._timers.Add(this);
            }
            return true;
        }

        public void Dispose() { lock (time._gate) time._timers.Remove(this); }

        public ValueTask DisposeAsync() { Dispose(); return ValueTask.CompletedTask; }
    }
}
