namespace Appliance.Simulator.Clock;

/// <summary>
/// The simulated clock: time moves only when <see cref="SimLoop"/> has nothing left to run and jumps to the
/// next timer. Monotonic time and wall time are the same count of ticks (wall time starts at
/// <see cref="Epoch"/>), except on a node whose wall clock was stepped (<see cref="NodeClock"/>).
/// </summary>
public sealed class VirtualTime(SimLoop loop) : TimeProvider
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Ticks since the start of the run.</summary>
    public long Now { get; internal set; }

    public TimeSpan Elapsed => TimeSpan.FromTicks(Now);
    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(Now);
    public override long GetTimestamp() => Now;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SimTimer(loop, loop.CurrentContext, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }
}

/// <summary>A node's view of the clock: the same timers, a wall clock that a fault can step.</summary>
public sealed class NodeClock(VirtualTime time) : TimeProvider
{
    /// <summary>How far this node's wall clock is off (a clock step fault).</summary>
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => time.GetUtcNow() + Offset;
    public override long GetTimestamp() => time.GetTimestamp();
    public override long TimestampFrequency => time.TimestampFrequency;
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        => time.CreateTimer(callback, state, dueTime, period);
}

/// <summary>A timer of the virtual clock. It fires on the context that created it: a frozen node's timers wait with it.</summary>
sealed class SimTimer(SimLoop loop, SimContext context, TimerCallback callback, object? state) : ITimer
{
    long _generation;
    long _period;

    public SimContext Context { get; } = context;

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        var generation = ++_generation;
        _period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : period.Ticks;
        if (dueTime != Timeout.InfiniteTimeSpan)
            loop.Schedule(this, generation, loop.Time.Now + Math.Max(0, dueTime.Ticks));
        return true;
    }

    /// <summary>Called by the loop when its due time came; stale entries (changed or disposed since) are ignored.</summary>
    public void Fire(long generation)
    {
        if (generation != _generation) return;
        if (_period > 0) loop.Schedule(this, generation, loop.Time.Now + _period);
        loop.Post(Context, _ => callback(state), null);
    }

    public void Dispose() => _generation++;
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
