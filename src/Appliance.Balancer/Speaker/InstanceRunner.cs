using System.Collections.Concurrent;
using Appliance.Balancer.Http;
using Appliance.Balancer.Notify;
using Appliance.Balancer.Tracking;
using Appliance.Configuration;
using Appliance.Linux.Net;
using Appliance.Net;
using Appliance.Vrrp;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Speaker;

/// <summary>
/// The speaker of one VRRP instance: a dedicated thread that sleeps in poll(2) until a datagram,
/// a wake-up (tracking changed, stop) or the state's next deadline, turns what happened into a
/// <see cref="VrrpEvent"/>, lets the pure <see cref="VrrpMachine"/> decide, and carries out the
/// effects it returns through <see cref="InstanceNetwork"/>. Nothing here decides VRRP.
/// </summary>
public sealed class InstanceRunner : IDisposable
{
    readonly VrrpInstanceSection _config;
    readonly VrrpSettings _settings;
    readonly InstanceNetwork _network;
    readonly IReadOnlyList<ITrackedCondition> _conditions;
    readonly NotifyScripts _notify;
    readonly BalancerMetrics _metrics;
    readonly TimeProvider _time;
    readonly ILogger _log;
    readonly VrrpReceiveFilter _filter;
    readonly ConcurrentQueue<VrrpEvent> _inbox = new();
    readonly Wakeup _wake = new();
    readonly long _origin;
    readonly Thread _thread;
    readonly Action<Exception> _onCrash;
    VrrpInstanceState _state = new();
    volatile InstanceStatus _status;

    public InstanceRunner(VrrpInstanceSection config, VrrpSettings settings, InstanceNetwork network, IReadOnlyList<ITrackedCondition> conditions,
        NotifyScripts notify, BalancerMetrics metrics, TimeProvider time, ILogger log, Action<Exception> onCrash)
    {
        _onCrash = onCrash;
        _config = config;
        _settings = settings;
        _network = network;
        _conditions = conditions;
        _notify = notify;
        _metrics = metrics;
        _time = time;
        _log = log;
        _origin = time.GetTimestamp();
        _filter = new VrrpReceiveFilter(settings.VirtualRouterId, settings.PrimaryAddress,
            [.. config.UnicastPeers.Select(Ipv4Address.Parse)]);
        _status = Snapshot(null, null);
        _thread = new Thread(Run) { Name = $"vrrp {config.Name}", IsBackground = true };
        foreach (var c in conditions) c.Changed += _ => Post(new VrrpEvent.TrackingChanged(Tracking()));
    }

    /// <summary>Raised on the speaker's thread after each transition, with the new state; handlers must not block.</summary>
    public event Action<VrrpState>? StateChanged;

    /// <summary>The latest snapshot (any thread).</summary>
    public InstanceStatus Status => _status;

    /// <summary>Starts the speaker thread: the instance leaves Initialize.</summary>
    public void Start() => _thread.Start();

    /// <summary>True once the speaker thread has ended.</summary>
    public bool Stopped => !_thread.IsAlive;

    /// <summary>
    /// RFC 5798's Shutdown: a master sends priority 0 and removes its addresses (the machine's
    /// effects), then the thread ends. Waits at most <paramref name="timeout"/>.
    /// </summary>
    public bool Stop(TimeSpan timeout)
    {
        if (!_thread.IsAlive) return true;
        Post(new VrrpEvent.Shutdown());
        return _thread.Join(timeout);
    }

    void Post(VrrpEvent e)
    {
        _inbox.Enqueue(e);
        _wake.Signal();
    }

    VrrpTracking Tracking() => VrrpTracking.From(_conditions.Select(c => new TrackedCondition(c.Weight, c.Up)));

    TimeSpan Now() => _time.GetElapsedTime(_origin);

    void Run()
    {
        try
        {
            Loop();
        }
        catch (Exception e)
        {
            // A bug or a vanished interface: leave no address behind that nobody defends, and stop
            // the process (systemd restarts it) rather than run on with a dead instance.
            _log.Error($"{_config.Name}: speaker stopped: {e}");
            _network.RemoveAddresses();
            _onCrash(e);
        }
    }

    void Loop()
    {
        var buffer = new byte[2048];
        Apply(new VrrpEvent.TrackingChanged(Tracking()));
        Apply(new VrrpEvent.Startup());
        while (true)
        {
            while (_inbox.TryDequeue(out var e))
            {
                Apply(e);
                if (e is VrrpEvent.Shutdown) return;
            }
            var now = Now();
            if (_state.NextDeadline is { } due && due <= now)
            {
                Apply(new VrrpEvent.Tick());
                continue;
            }
            // No timer runs in Initialize or Fault: wake now and then anyway (cheap, and robust).
            var wait = _state.NextDeadline is { } next ? next - now : TimeSpan.FromSeconds(1);
            var ready = Wakeup.WaitReadable(_network.Fd, _wake.Fd, wait);
            if ((ready & 2) != 0) _wake.Drain();
            if ((ready & 1) != 0) ReceiveAll(buffer);
        }
    }

    void ReceiveAll(byte[] buffer)
    {
        int n;
        while ((n = _network.Receive(buffer)) > 0)
        {
            var result = _filter.Classify(buffer.AsSpan(0, n));
            if (result.Event is null)
            {
                _metrics.Dropped(_config.Name, result.Reason);
                _log.Dropped(_config.Name, result.Reason, result.Detail);
                continue;
            }
            _metrics.AdvertReceived(_config.Name);
            Apply(result.Event);
        }
    }

    void Apply(VrrpEvent e)
    {
        var step = VrrpMachine.Step(_settings, _state, e, Now());
        _state = step.State;
        if (step.Transition is { } t)
            _log.Transition(_config.Name, Word(t.From), Word(t.To), t.Reason);
        foreach (var effect in step.Effects)
            Execute(effect);
        if (step.Transition is { } transition)
        {
            _metrics.Transition(_config.Name, transition);
            _status = Snapshot(_time.GetUtcNow(), transition.Reason);
        }
        else
            _status = Snapshot(_status.LastTransition, _status.LastReason);
    }

    void Execute(VrrpEffect effect)
    {
        switch (effect)
        {
            case VrrpEffect.SendAdvert send:
                _metrics.AdvertsSent(_config.Name, _network.SendAdvert(send.Priority));
                break;
            case VrrpEffect.AddAddresses:
                _network.AddAddresses();
                break;
            case VrrpEffect.RemoveAddresses:
                foreach (var stale in _network.RemoveAddresses())
                    _log.Info($"{_config.Name}: removed {stale} from {_config.Interface}");
                break;
            case VrrpEffect.SendGarpBurst:
                _metrics.GarpsSent(_config.Name, _network.SendGarpBurst());
                break;
            case VrrpEffect.Notify notify:
                _notify.Fire(notify.State, notify.Priority);
                StateChanged?.Invoke(notify.State);
                break;
            case VrrpEffect.DropAdvert drop:
                _metrics.Dropped(_config.Name, drop.Reason.ToString());
                break;
        }
    }

    static string Word(VrrpState state) => state == VrrpState.Initialize ? "INIT" : NotifyScripts.StateWord(state);

    InstanceStatus Snapshot(DateTimeOffset? lastTransition, string? reason) => new()
    {
        Name = _config.Name,
        Interface = _config.Interface,
        VirtualRouterId = _settings.VirtualRouterId,
        Version = (int)_settings.Version,
        State = _state.State,
        Priority = _settings.Priority,
        EffectivePriority = VrrpMachine.Priority(_settings, _state),
        SourceAddress = _settings.PrimaryAddress,
        MasterAddress = _state.State == VrrpState.Master ? _settings.PrimaryAddress : _state.State == VrrpState.Backup ? _state.MasterAddress : null,
        VirtualAddresses = _network.Addresses,
        Fault = _state.Tracking.Fault,
        LastTransition = lastTransition,
        LastReason = reason,
    };

    public void Dispose()
    {
        _wake.Dispose();
        _network.Dispose();
    }
}
