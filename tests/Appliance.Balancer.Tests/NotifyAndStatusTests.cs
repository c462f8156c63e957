using System.Text.Json;
using Appliance.Balancer.Http;
using Appliance.Balancer.Notify;
using Appliance.Balancer.Speaker;
using Appliance.Configuration;
using Appliance.Net;
using Appliance.Vrrp;

namespace Appliance.Balancer.Tests;

/// <summary>The pure parts of the balancer's edges: notify arguments, metric reason classes, the /status document.</summary>
public sealed class NotifyAndStatusTests
{
    static readonly VrrpInstanceSection Instance = new()
    {
        Name = "VI_1",
        Interface = "eth0",
        VirtualRouterId = 51,
        VirtualIpaddress = ["10.231.0.140/24"],
        NotifyMaster = "/etc/appliance/master.sh now",
        Notify = "/etc/appliance/notify.sh",
    };

    [Theory]
    [InlineData(VrrpState.Master, "MASTER")]
    [InlineData(VrrpState.Backup, "BACKUP")]
    [InlineData(VrrpState.Fault, "FAULT")]
    [InlineData(VrrpState.Initialize, "STOP")]
    public void Notify_gets_keepalived_arguments(VrrpState state, string word)
    {
        var commands = NotifyScripts.Commands(Instance, state, 90);
        var notify = commands[^1];
        Assert.Equal("/etc/appliance/notify.sh", notify.Script);
        Assert.Equal(["INSTANCE", "VI_1", word, "90"], notify.Arguments);
        Assert.Equal(state == VrrpState.Master ? 2 : 1, commands.Count);
    }

    [Fact]
    public void State_specific_script_runs_as_written()
    {
        var (script, args) = NotifyScripts.Commands(Instance, VrrpState.Master, 100)[0];
        Assert.Equal("/etc/appliance/master.sh now", script);
        Assert.Empty(args);
        var psi = Tracking.ScriptCommand.StartInfo(script, args);
        Assert.Equal("/etc/appliance/master.sh", psi.FileName);
        Assert.Equal(["now"], psi.ArgumentList);
    }

    [Theory]
    [InlineData("startup", "startup")]
    [InlineData("startup: address owner (priority 255)", "address_owner")]
    [InlineData("startup: a tracked condition is down", "tracking_fault")]
    [InlineData("Master_Down_Timer fired: no usable advert from a master", "master_down")]
    [InlineData("advert from 10.0.0.2 with priority 100 > 90", "higher_priority")]
    [InlineData("advert from 10.0.0.2 with equal priority 100 and a higher address than 10.0.0.1", "higher_address")]
    [InlineData("tracked conditions are up again", "tracking_recovered")]
    [InlineData("shutdown", "shutdown")]
    [InlineData("something new", "other")]
    public void Transition_reasons_become_bounded_labels(string reason, string label) =>
        Assert.Equal(label, BalancerMetrics.ReasonClass(reason));

    [Fact]
    public void Status_document_names_state_priority_master_and_vips()
    {
        var status = new InstanceStatus
        {
            Name = "VI_1",
            Interface = "eth0",
            VirtualRouterId = 51,
            Version = 2,
            State = VrrpState.Backup,
            Priority = 100,
            EffectivePriority = 70,
            SourceAddress = Ipv4Address.Parse("10.231.0.12"),
            MasterAddress = Ipv4Address.Parse("10.231.0.11"),
            VirtualAddresses = [VirtualAddress.Parse("10.231.0.140/24")],
        };
        using var doc = JsonDocument.Parse(StatusJson.Write([status]));
        var i = doc.RootElement.GetProperty("instances")[0];
        Assert.Equal("BACKUP", i.GetProperty("state").GetString());
        Assert.Equal(70, i.GetProperty("effective_priority").GetInt32());
        Assert.Equal("10.231.0.11", i.GetProperty("master_address").GetString());
        Assert.Equal("10.231.0.140/24", i.GetProperty("virtual_ipaddress")[0].GetString());
        Assert.Equal(JsonValueKind.Null, i.GetProperty("last_transition").ValueKind);
    }
}
