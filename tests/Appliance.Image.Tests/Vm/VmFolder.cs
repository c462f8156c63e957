namespace Appliance.Image.Tests.Vm;

/// <summary>A unique folder per VM (the test's PID in the name, so crashed runs never collide); the VM deletes it.</summary>
internal static class VmFolder
{
    public static string New(string what) =>
        Path.Combine(Path.GetTempPath(), $"apl-vm-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}-{what}");
}
