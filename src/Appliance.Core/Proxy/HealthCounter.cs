namespace Appliance.Proxy;

/// <summary>
/// HAProxy's single health counter for one backend: it runs from 0 to <c>rise + fall − 1</c>, and the
/// backend is up from <c>rise</c> on. A success climbs one step (and, on reaching <c>rise</c>, jumps to the
/// top); a failure while up descends one step, and the failure that would take it below <c>rise</c> drops it
/// to 0. So an up backend goes down after <c>fall</c> consecutive failures, a down one comes up after
/// <c>rise</c> consecutive successes, and a failure half-way up starts the climb again.
/// </summary>
public readonly record struct HealthCounter(int Rise, int Fall, int Health)
{
    /// <summary>A backend not checked yet: down, so no client is sent to it before a check succeeded <c>rise</c> times.</summary>
    public static HealthCounter Start(int rise, int fall)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rise, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(fall, 1);
        return new(rise, fall, 0);
    }

    public bool IsUp => Health >= Rise;

    int Top => Rise + Fall - 1;

    public HealthCounter Success()
    {
        if (IsUp) return this with { Health = Top };
        var h = Health + 1;
        return this with { Health = h >= Rise ? Top : h };
    }

    public HealthCounter Failure() => this with { Health = Health > Rise ? Health - 1 : 0 };
}
