namespace Appliance.Image.Tests.VmLab;

/// <summary>
/// A test that boots several appliance VMs under software emulation (10-30 minutes, root, the image built):
/// it runs only when APPLIANCE_VM_TESTS=1, and says how to run it when skipped.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class VmLabFactAttribute : FactAttribute
{
    public const string Variable = "APPLIANCE_VM_TESTS";

    public VmLabFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
            Skip = $"boots several VMs for 10-30 minutes: run with {Variable}=1 dotnet test tests/Appliance.Image.Tests --filter FullyQualifiedName~VmLab (root, image/out built)";
    }
}

/// <summary>The VM lab's tests share two cores: one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class VmLabCollection
{
    public const string Name = "VM lab";
}
