using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Appliance.Cli.CommandLine;
using Appliance.Cli.Model;
using Appliance.Cli.Output;
using Appliance.Cli.Rest;

namespace Appliance.Cli.Commands;

/// <summary>
/// <c>show-config</c> and <c>edit-config</c>: the <c>config</c> key (Patroni's dynamic configuration).
/// An edit goes to the leader's REST API as <c>PATCH /config</c> with only the changed keys (null
/// deletes), then to the other members in turn; when no API answers at all, the key is written in
/// etcd directly, only if nobody changed it since it was read (compare on its revision).
/// </summary>
internal static class ConfigCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly string[] Editors = ["/usr/bin/editor", "/usr/bin/vi", "/bin/vi"];

    public static async Task<int> ShowAsync(CtlContext ctx, CancellationToken ct)
    {
        var format = ctx.Args.Value("format") ?? "yaml";
        if (format is not ("yaml" or "json"))
            throw CtlException.UsageError($"--format: '{format}' is not one of yaml, json");
        var (snapshot, _) = await ctx.LoadAsync(ct);
        var config = ParseConfig(snapshot.ConfigJson);
        ctx.Out.WriteLine(format == "json" ? config.ToJsonString(Indented) : Yaml.Write(config));
        return 0;
    }

    public static async Task<int> EditAsync(CtlContext ctx, CancellationToken ct)
    {
        var pairs = ctx.Args.All("set").Concat(ctx.Args.All("pg").Select(p => "postgresql.parameters." + p.TrimStart())).ToList();
        _ = ConfigEdit.Apply([], pairs); // syntax errors before anything is read
        var key = await ctx.EtcdAsync("read the config key", t => ctx.Admin.GetAsync(ctx.Admin.Keys.Config, t), ct);
        var before = ParseConfig(key?.Value);
        var after = pairs.Count > 0 ? ConfigEdit.Apply(before, pairs) : await EditInEditorAsync(ctx, before, ct);

        var patch = ConfigEdit.Patch(before, after);
        var quiet = ctx.Args.Flag("quiet");
        if (patch is null)
        {
            if (!quiet) ctx.Out.WriteLine("Not changed");
            return 0;
        }
        if (!quiet) ctx.Out.Write(UnifiedDiff.Render(Yaml.Write(before), Yaml.Write(after)));
        if (!ctx.Force && !ctx.Prompter.Confirm("Apply these changes?"))
            throw CtlException.Failure("Aborted: the configuration was not changed");

        var (_, view) = await ctx.LoadAsync(ct);
        var unreachable = new List<string>();
        foreach (var member in view.LeaderFirst())
        {
            ApiResponse r;
            try
            {
                r = await ctx.Api.SendAsync(member, HttpMethod.Patch, "config", patch, ct);
            }
            catch (ApiUnreachableException e)
            {
                unreachable.Add(e.Message);
                continue;
            }
            if (r.Status == 200)
            {
                ctx.Out.WriteLine("Configuration changed");
                return 0;
            }
            throw CtlException.Failure($"Failed: PATCH {PatroniApi.UrlOf(member, "config")} on {member.Name}: status code={r.Status}, ({r.Body.Trim()})");
        }

        foreach (var u in unreachable) await Console.Error.WriteLineAsync(u);
        ctx.Out.WriteLine($"{ctx.Timestamp()} No member's REST API answered; writing the config key in etcd (compare-and-set)");
        var written = await ctx.EtcdAsync("write the config key", t => ctx.Admin.CompareAndSetAsync(ctx.Admin.Keys.Config, key?.ModRevision ?? 0, after.ToJsonString(), t), ct);
        if (!written) throw CtlException.Failure("Config modification aborted due to concurrent changes: the config key changed since it was read; run edit-config again");
        ctx.Out.WriteLine("Configuration changed");
        return 0;
    }

    private static JsonObject ParseConfig(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw CtlException.Failure("the config key does not hold a JSON object");
        }
        catch (JsonException e)
        {
            throw CtlException.Failure($"the config key is not valid JSON: {e.Message}");
        }
    }

    /// <summary>Opens <c>$EDITOR</c> (else <c>editor</c>, else <c>vi</c>) on the configuration as indented JSON and reads it back.</summary>
    private static async Task<JsonObject> EditInEditorAsync(CtlContext ctx, JsonObject before, CancellationToken ct)
    {
        if (Console.IsInputRedirected)
            throw CtlException.UsageError("edit-config without --set or --pg opens an editor, but standard input is not a terminal: pass --set key=value or --pg param=value");
        var editor = Environment.GetEnvironmentVariable("EDITOR") is { Length: > 0 } e ? e
            : Editors.FirstOrDefault(File.Exists)
            ?? throw CtlException.UsageError("EDITOR is not set and neither editor nor vi is installed; use --set or --pg");
        var file = Path.Combine(Path.GetTempPath(), $"{ctx.Settings.Scope}-config-{Guid.NewGuid().ToString("N")[..8]}.json");
        await File.WriteAllTextAsync(file, before.ToJsonString(Indented) + "\n", ct);
        try
        {
            var parts = editor.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var psi = new ProcessStartInfo(parts[0]) { UseShellExecute = false };
            foreach (var a in parts.Skip(1)) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add(file);
            using var p = Process.Start(psi) ?? throw CtlException.Failure($"cannot start the editor '{editor}'");
            await p.WaitForExitAsync(ct);
            if (p.ExitCode != 0) throw CtlException.Failure($"the editor exited with code {p.ExitCode}; nothing was changed");
            var text = await File.ReadAllTextAsync(file, ct);
            try
            {
                return JsonNode.Parse(text) as JsonObject ?? throw CtlException.UsageError("the edited configuration is not a JSON object; nothing was changed");
            }
            catch (JsonException ex)
            {
                throw CtlException.UsageError($"the edited configuration is not valid JSON ({ex.Message}); nothing was changed");
            }
        }
        finally
        {
            File.Delete(file);
        }
    }
}
