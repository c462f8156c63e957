using Appliance.Configuration;
using Appliance.Fencing;

namespace Appliance.Linux.Watchdog;

/// <summary>
/// <see cref="IWatchdog"/> over a Linux watchdog device: <see cref="WatchdogPolicy"/> decides, this
/// class performs and records. One caller (the HA loop); <see cref="State"/> may be read from any thread.
/// </summary>
public sealed class LinuxWatchdog : IWatchdog, IDisposable
{
    private readonly WatchdogSettings _settings;
    private readonly WatchdogLocation _location;
    private readonly TimeProvider _time;
    private WatchdogDevice? _device;
    private string? _lastLogged;
    private volatile WatchdogState _state;

    /// <param name="settings">Mode and timeouts (<see cref="WatchdogSettings.From"/>).</param>
    /// <param name="location">The device found by <see cref="WatchdogLocator"/>, or why none was.</param>
    /// <param name="time">Stamps the last feed.</param>
    public LinuxWatchdog(WatchdogSettings settings, WatchdogLocation location, TimeProvider time)
    {
        _settings = settings;
        _location = location;
        _time = time;
        _state = WatchdogState.Initial(settings.Mode, location.DevicePath) with { LastError = location.Error };
    }

    /// <summary>The composition root's entry: <see cref="NoWatchdog"/> for mode off, else the located device.</summary>
    public static IWatchdog Create(ApplianceConfig config, TimeProvider time)
    {
        var settings = WatchdogSettings.From(config);
        if (settings.Mode == WatchdogMode.Off) return new NoWatchdog();
        var location = WatchdogLocator.Locate(config.Watchdog.Device, config.Watchdog.Identity);
        // Known from the start, as Patroni's is_healthy: /patroni says watchdog_failed before any arm attempt,
        // so peers leave a required node out of the failover race at once.
        if (location is { DevicePath: { } path, Error: null } && !File.Exists(path))
            location = location with { Error = $"{path} does not exist" };
        return new LinuxWatchdog(settings, location, time);
    }

    public WatchdogState State => _state;

    public WatchdogResult Arm()
    {
        switch (WatchdogPolicy.Next(_settings.Mode, LeaderPhase.AboutToLead, _device is not null))
        {
            case WatchdogStep.None: return new(true, "watchdog off");
            case WatchdogStep.Feed: return Feed();
        }

        var (attempt, identity) = TryArm();
        var verdict = WatchdogPolicy.Judge(_settings, attempt);
        string? disarmError = null;
        if (!verdict.KeepArmed) disarmError = CloseDevice(disarm: true);

        _state = _state with
        {
            Armed = _device is not null,
            DevicePath = _location.DevicePath,
            Identity = identity ?? _state.Identity,
            TimeoutSeconds = attempt.ActualTimeoutSeconds,
            LastFeed = _device is not null ? _time.GetUtcNow() : _state.LastFeed,
            LastError = Join(verdict.Problem, disarmError),
        };
        return new(verdict.MayLead, verdict.Reason, Once(Join(verdict.Problem, disarmError)));
    }

    public WatchdogResult Feed()
    {
        if (WatchdogPolicy.Next(_settings.Mode, LeaderPhase.Leading, _device is not null) != WatchdogStep.Feed)
            return new(true, "watchdog not armed");
        try
        {
            _device!.Keepalive();
            _state = _state with { LastFeed = _time.GetUtcNow(), LastError = null };
            return new(true, "watchdog fed", Once(null));
        }
        catch (WatchdogException e)
        {
            // The device stays open: if it is truly gone the reset comes anyway, and a transient
            // failure must not make a healthy primary demote.
            _state = _state with { LastError = e.Message };
            return new(true, e.Message, Once(e.Message));
        }
    }

    public WatchdogResult Disarm()
    {
        if (WatchdogPolicy.Next(_settings.Mode, LeaderPhase.StoppingLeading, _device is not null) != WatchdogStep.Disarm)
            return new(true, "watchdog not armed");
        string? error = CloseDevice(disarm: true);
        _state = _state with { Armed = false, LastError = error };
        return new(true, error ?? "watchdog disarmed", Once(error));
    }

    /// <summary>Closes the device without the magic 'V': the timer keeps running (use <see cref="Disarm"/> to stop it).</summary>
    public void Dispose() => _device?.Dispose();

    private (ArmAttempt Attempt, string? Identity) TryArm()
    {
        if (_location.DevicePath is not { } path) return (ArmAttempt.Failed(_location.Error ?? "no device"), null);
        string? identity = null;
        try
        {
            _device = WatchdogDevice.Open(path);
            var support = _device.GetSupport();
            identity = support.Identity;
            // A device without WDIOF_SETTIMEOUT has a fixed timeout: read it and let the policy judge.
            int actual = support.CanSetTimeout
                ? _device.SetTimeout(WatchdogPolicy.WantedTimeout(_settings))
                : _device.GetTimeout();
            return (ArmAttempt.Running(actual, support.HasMagicClose), identity);
        }
        catch (WatchdogException e)
        {
            // Opened but not configured: stop it again rather than leave a timer we do not feed.
            string? closeError = CloseDevice(disarm: true);
            return (ArmAttempt.Failed(Join(e.Message, closeError)!), identity);
        }
    }

    private string? CloseDevice(bool disarm)
    {
        var device = _device;
        _device = null;
        try
        {
            device?.Close(disarm);
            return null;
        }
        catch (WatchdogException e)
        {
            return e.Message;
        }
    }

    /// <summary>The message when it differs from the last one logged (log once per problem); null clears it, so a recurrence is logged again.</summary>
    private string? Once(string? message)
    {
        if (message == _lastLogged) return null;
        _lastLogged = message;
        return message;
    }

    private static string? Join(string? a, string? b) => a is null ? b : b is null ? a : $"{a}; {b}";
}
