namespace Appliance.Balancer.Tests;

/// <summary>
/// The namespace tests run one at a time: v3 at 0.1 s has a master-down interval of about 0.35 s,
/// and several labs at once on 2 shared cores could starve a master into a spurious takeover.
/// </summary>
[CollectionDefinition("netns", DisableParallelization = true)]
public sealed class NetnsCollection;
