using Appliance.Cluster;

namespace Appliance.Core.Tests.Cluster;

/// <summary><c>postgresql.parameters</c> of the <c>config</c> key, as Patroni and operators write it, read as postgresql.conf values.</summary>
public class DynamicParametersTests
{
    [Fact]
    public void Strings_numbers_and_booleans_become_conf_values_and_null_is_no_setting()
    {
        var p = DynamicParameters.From("""
            {"ttl":30,"postgresql":{"use_slots":true,"parameters":{
              "max_connections":100,"hot_standby":"on","work_mem":"7MB","random_page_cost":1.1,
              "wal_log_hints":true,"jit":false,"log_line_prefix":"%m [%p] 'x' ","gone":null}}}
            """);
        Assert.Equal(new Dictionary<string, string>
        {
            ["hot_standby"] = "on", ["jit"] = "off", ["log_line_prefix"] = "%m [%p] 'x' ", ["max_connections"] = "100",
            ["random_page_cost"] = "1.1", ["wal_log_hints"] = "on", ["work_mem"] = "7MB",
        }, p.Values);
        Assert.Equal(["hot_standby", "jit", "log_line_prefix", "max_connections", "random_page_cost", "wal_log_hints", "work_mem"], p.Values.Keys);
        Assert.Empty(p.Ignored);
    }

    [Fact]
    public void Objects_and_arrays_are_ignored_and_named_not_fatal()
    {
        var p = DynamicParameters.From("""{"postgresql":{"parameters":{"work_mem":"4MB","bad":{"a":1},"list":[1,2]}}}""");
        Assert.Equal(new Dictionary<string, string> { ["work_mem"] = "4MB" }, p.Values);
        Assert.Equal(["bad (an object)", "list (an array)"], p.Ignored.ToArray());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[1]")]
    [InlineData("""{"pause":true}""")]
    [InlineData("""{"postgresql":null}""")]
    [InlineData("""{"postgresql":{"parameters":"work_mem=4MB"}}""")]
    public void Absent_or_malformed_means_no_dynamic_setting(string? json)
    {
        var p = DynamicParameters.From(json);
        Assert.Empty(p.Values);
        Assert.Empty(p.Ignored);
    }

    [Fact]
    public void What_the_bootstrap_writes_reads_back()
    {
        // The shape DynamicConfigJson.FromLocal writes (and a PATCH merges into).
        var merged = DynamicConfig.Merge("""{"ttl":30,"postgresql":{"use_pg_rewind":false,"parameters":{"max_connections":"50"}}}""",
            """{"postgresql":{"parameters":{"work_mem":"7MB","max_connections":null}}}""");
        Assert.Equal(new Dictionary<string, string> { ["work_mem"] = "7MB" }, DynamicParameters.From(merged).Values);
    }
}
