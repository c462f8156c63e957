using Appliance.Lab;
using Appliance.Lab.NetLab;

namespace Appliance.Scenario.Tests;

/// <summary>
/// One lab for every scenario, on the stack and profile <c>APPLIANCE_LAB_STACK</c> and
/// <c>APPLIANCE_LAB_PROFILE</c> name (default: ours, production profile), so the same scenarios run
/// against the reference stack unchanged. Each scenario leaves the lab healthy for the next.
/// </summary>
public sealed class LabFixture : IAsyncLifetime
{
    NetLab? _lab;

    public NetLab Lab => _lab ?? throw new InvalidOperationException("the lab did not start");
    public LabFaults Faults { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var stack = ILabStack.Named(Environment.GetEnvironmentVariable("APPLIANCE_LAB_STACK") is { Length: > 0 } s ? s : "appliance");
        var profile = LabProfile.Named(Environment.GetEnvironmentVariable("APPLIANCE_LAB_PROFILE") is { Length: > 0 } p ? p : LabProfile.Production.Name);
        _lab = await NetLab.StartAsync(stack, profile, LabBinaries.Locate(Repo.Root()), TextWriter.Null, TimeSpan.FromMinutes(5));
        Faults = new LabFaults(_lab);
    }

    public async Task DisposeAsync()
    {
        if (_lab is not null) await _lab.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class LabCollection : ICollectionFixture<LabFixture>
{
    public const string Name = "lab";
}
