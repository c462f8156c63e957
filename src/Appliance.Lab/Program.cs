using Appliance.Lab;

// appliance-lab: runs the appliance on this machine. `demo` is the README's main job; `lab` runs the lab; `vm-lab` the same cluster as VMs from the image.
using var stop = new CancellationTokenSource();
using var signals = new StopSignals(stop);

var command = args.FirstOrDefault() ?? "demo";
switch (command)
{
    case "demo":
        return await Demo.RunAsync(Repo.Root(), Console.Out, stop.Token);
    case "lab":
        return await LabCommand.RunAsync(Repo.Root(), args[1..], Console.Out, stop.Token);
    case "vm-lab":
        return await Appliance.Lab.Vm.VmLabCommand.RunAsync(args[1..], Console.Out, stop.Token);
    default:
        await Console.Error.WriteLineAsync($"unknown command '{command}'. Commands: demo, lab, vm-lab");
        return 2;
}
