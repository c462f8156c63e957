namespace Appliance.Simulator.Clock;

/// <summary>
/// Runs a whole simulated cluster on one thread: every continuation of every node is posted here, runs in
/// the order it was posted, and time moves only when nothing is left to run. So one seed always replays
/// the same run. A post from another thread (a hop through the thread pool) would break that: it is
/// counted, and a run that saw one is reported as not repeatable.
/// </summary>
public sealed class SimLoop
{
    readonly Queue<(SimContext Context, SendOrPostCallback Callback, object? State)> _ready = new();
    readonly PriorityQueue<(SimTimer Timer, long Generation), (long Due, long Seq)> _timers = new();
    readonly Lock _foreignGate = new();
    readonly Thread _owner = Thread.CurrentThread;
    long _seq;

    public SimLoop()
    {
        Time = new VirtualTime(this);
        World = new SimContext(this, "world");
    }

    public VirtualTime Time { get; }
    /// <summary>The context of the models (etcd, PostgreSQL, the network, the client): never frozen.</summary>
    public SimContext World { get; }
    /// <summary>Posts that came from another thread: each one makes the run unrepeatable.</summary>
    public int ForeignPosts { get; private set; }
    /// <summary>Continuations run so far.</summary>
    public long Steps { get; private set; }

    internal SimContext CurrentContext => SynchronizationContext.Current as SimContext ?? World;

    internal void Post(SimContext context, SendOrPostCallback callback, object? state)
    {
        if (Thread.CurrentThread != _owner)
        {
            lock (_foreignGate)
            {
                ForeignPosts++;
                if (Environment.GetEnvironmentVariable("SIM_FOREIGN_STACK") is not null) Console.Error.WriteLine("FOREIGN POST:\n" + Environment.StackTrace);
                _ready.Enqueue((context, callback, state));
            }
            return;
        }
        _ready.Enqueue((context, callback, state));
    }

    internal void Schedule(SimTimer timer, long generation, long due) => _timers.Enqueue((timer, generation), (due, _seq++));

    /// <summary>Runs <paramref name="action"/> on <paramref name="context"/> as soon as the loop gets to it.</summary>
    public void Run(SimContext context, Action action) => Post(context, _ => action(), null);

    /// <summary>Calls <paramref name="action"/> on the world context after <paramref name="delay"/> of virtual time.</summary>
    public void At(TimeSpan delay, Action action)
    {
        var timer = new SimTimer(this, World, _ => action(), null);
        timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Runs until virtual time <paramref name="end"/>, or until <paramref name="done"/> says so between steps.</summary>
    public void RunUntil(TimeSpan end, Func<bool> done)
    {
        var previous = SynchronizationContext.Current;
        try
        {
            while (true)
            {
                while (TryDequeue(out var work))
                {
                    if (work.Context.Dead) continue;
                    if (work.Context.Frozen)
                    {
                        work.Context.Park(work.Callback, work.State);
                        continue;
                    }
                    if (work.Context.Starvation > TimeSpan.Zero && work.Callback != RunWaited)
                    {
                        // Starved of CPU: every step of this process waits its turn first.
                        var waited = (work.Context, work.Callback, work.State);
                        new SimTimer(this, World, _ => _ready.Enqueue((waited.Context, RunWaited, waited)), null)
                            .Change(work.Context.Starvation, Timeout.InfiniteTimeSpan);
                        continue;
                    }
                    SynchronizationContext.SetSynchronizationContext(work.Context);
                    Steps++;
                    work.Callback(work.State);
                }
                SynchronizationContext.SetSynchronizationContext(null);
                if (done()) return;
                if (!_timers.TryPeek(out _, out var next) || next.Due > end.Ticks)
                {
                    Time.Now = Math.Max(Time.Now, end.Ticks);
                    return;
                }
                var (timer, generation) = _timers.Dequeue();
                Time.Now = Math.Max(Time.Now, next.Due);
                timer.Fire(generation);
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>A step of a starved process that has waited for its CPU: it runs now.</summary>
    static readonly SendOrPostCallback RunWaited = state =>
    {
        var (_, callback, inner) = ((SimContext, SendOrPostCallback, object?))state!;
        callback(inner);
    };

    bool TryDequeue(out (SimContext Context, SendOrPostCallback Callback, object? State) work)
    {
        if (ForeignPosts == 0) return _ready.TryDequeue(out work);
        lock (_foreignGate) return _ready.TryDequeue(out work);
    }
}

/// <summary>
/// One process of the simulated cluster (an agent) or the models' own context. Freezing it parks its work
/// (SIGSTOP); thawing replays it in order; killing it drops everything it would still have done.
/// </summary>
public sealed class SimContext(SimLoop loop, string name) : SynchronizationContext
{
    readonly Queue<(SendOrPostCallback, object?)> _parked = new();

    public string Name { get; } = name;
    public bool Frozen { get; private set; }
    public bool Dead { get; private set; }
    /// <summary>How long each step of this process waits for the CPU (a cgroup cpu.max throttle); zero: none.</summary>
    public TimeSpan Starvation { get; set; }

    public override void Post(SendOrPostCallback d, object? state) => loop.Post(this, d, state);
    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("the simulator runs on one thread: nothing may block on another context");
    public override SynchronizationContext CreateCopy() => this;

    public void Freeze() => Frozen = !Dead;

    public void Thaw()
    {
        if (!Frozen) return;
        Frozen = false;
        while (_parked.TryDequeue(out var w)) loop.Post(this, w.Item1, w.Item2);
    }

    public void Kill()
    {
        Dead = true;
        Frozen = false;
        _parked.Clear();
    }

    internal void Park(SendOrPostCallback d, object? state) => _parked.Enqueue((d, state));

    public override string ToString() => Name;
}
