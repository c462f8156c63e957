using Appliance.Simulator.Models;
using Appliance.Simulator.World;

namespace Appliance.Simulator;

/// <summary>The outcome of one seed.</summary>
public sealed record SimResult(int Seed, SimSettings Settings, IReadOnlyList<Fault> Faults, string? Violation, int Acks, long Steps, TimeSpan Simulated, string Trace)
{
    public bool Ok => Violation is null;

    public string Describe() => $"""
        seed {Seed}: {(Ok ? "ok" : "VIOLATION " + Violation)}
          settings: {Settings}
          faults: {(Faults.Count == 0 ? "none" : string.Join("; ", Faults))}
          {Acks} commits acknowledged, {Simulated.TotalSeconds:0} s simulated, {Steps} steps
        """;
}

/// <summary>
/// One seed, start to end: the settings and the fault schedule drawn from it, a cluster bootstrapped from
/// nothing, the faults, then a quiet period in which the cluster must heal by itself: a leader that takes
/// writes within <see cref="LeaderBound"/>, every node back as a streaming replica within <see cref="RejoinBound"/>.
/// </summary>
public static class Simulation
{
    static readonly TimeSpan BootstrapBound = TimeSpan.FromSeconds(60);

    /// <summary>
    /// After the last fault ends: the lease runs out (ttl), the race (a cycle: loop_wait + retry_timeout),
    /// the promotion and the first commit (a few seconds), twice over for a failover that itself fails once.
    /// </summary>
    public static TimeSpan LeaderBound(SimSettings s) => TimeSpan.FromSeconds(2 * (s.Ttl + s.LoopWait + 2 * s.RetryTimeout) + 10);

    /// <summary>A diverged node waits ttl before it rejoins, then rewinds or clones: generous on top of a leader.</summary>
    public static TimeSpan RejoinBound(SimSettings s) => LeaderBound(s) + TimeSpan.FromSeconds(3 * s.Ttl + 60);

    public static SimSettings SettingsFor(Random rng, LeaderRenewal renewal) => new()
    {
        SynchronousMode = rng.Next(100) < 70,
        WatchdogDevice = rng.Next(2) == 0,
        Renewal = renewal,
    };

    public static SimResult Run(int seed, LeaderRenewal renewal = LeaderRenewal.Conditional) => Run(seed, renewal, null, null);

    /// <summary>A hand-written schedule (a reproduction): <paramref name="script"/> gets the moment the cluster became healthy.</summary>
    public static SimResult Run(SimSettings settings, Func<TimeSpan, List<Fault>> script) => Run(0, settings.Renewal, settings, script);

    static SimResult Run(int seed, LeaderRenewal renewal, SimSettings? given, Func<TimeSpan, List<Fault>>? script)
    {
        var rng = new Random(seed);
        var settings = given ?? SettingsFor(rng, renewal);
        var world = new SimWorld(settings);
        var loop = world.Loop;
        var names = world.Nodes.Select(n => n.Name).ToList();
        List<Fault> faults = [];
        string? violation = null;

        SimResult Result() => new(seed, settings, faults, violation ?? world.Checks.Violation, world.Acks, loop.Steps, loop.Time.Elapsed, world.TraceText);

        world.Start();
        loop.RunUntil(BootstrapBound, () => world.Checks.Violation is not null || Healthy(world));
        if (!Healthy(world))
        {
            violation = "the cluster did not bootstrap within 60 s";
            return Result();
        }
        var start = loop.Time.Elapsed + TimeSpan.FromSeconds(2);
        faults = script is null ? Faults.Schedule(rng, settings, names, start) : script(start);
        foreach (var f in faults)
        {
            loop.At(f.At - loop.Time.Elapsed, () => f.Begin(world));
            if (f.End is { } end) loop.At(f.At + f.Lasts - loop.Time.Elapsed, () => end(world));
        }
        var healed = faults.Count == 0 ? start : faults.Max(f => f.At + f.Lasts);
        loop.RunUntil(healed, () => world.Checks.Violation is not null);
        if (world.Checks.Violation is not null) return Result();
        world.Trace("world", "every fault has ended: the cluster must heal by itself");

        var writes = world.Acks;
        loop.RunUntil(healed + LeaderBound(settings), () => world.Checks.Violation is not null || world.Acks > writes);
        if (world.Checks.Violation is not null) return Result();
        if (world.Acks == writes)
        {
            violation = $"no leader took writes within {LeaderBound(settings).TotalSeconds:0} s of the last fault's end (healthy etcd, healthy candidates)";
            return Result();
        }
        loop.RunUntil(healed + RejoinBound(settings), () => world.Checks.Violation is not null || Healthy(world));
        if (world.Checks.Violation is null && !Healthy(world))
            violation = $"not every node rejoined as a streaming replica within {RejoinBound(settings).TotalSeconds:0} s of the last fault's end: "
                + string.Join(", ", world.Nodes.Select(n => $"{n.Name} {(n.Postgres.IsPrimary ? "primary" : n.Postgres.Streaming ? "streaming" : n.Postgres.Running ? "not streaming" : "stopped")} tl {n.Postgres.Timeline}"));
        if (loop.ForeignPosts > 0) violation ??= $"not repeatable: {loop.ForeignPosts} continuations came from another thread";
        return Result();
    }

    /// <summary>A leader whose PostgreSQL is the routed primary, every other node streaming from it.</summary>
    static bool Healthy(SimWorld w)
    {
        if (w.RoutedPrimary() is not { } primary) return false;
        return w.Nodes.All(n => n == primary || (n.Postgres.Streaming && n.Postgres.Data?.Upstream?.Name == primary.Name));
    }
}
