using System.Diagnostics;

namespace Appliance.Image.Tests.Container;

/// <summary>
/// The Dockerfile's role images, each target built at most once per test class (on first use, so that a
/// missing image/out/rootfs.tar fails each test with its own clear message) in one throw-away buildah
/// storage, removed with everything in it when the class is done, whatever happened.
/// </summary>
public sealed class RoleImages : IDisposable
{
    readonly SemaphoreSlim _gate = new(1, 1);
    readonly Dictionary<string, string> _built = [];
    Buildah? _buildah;

    /// <summary>How long each target took to build, in the order they were built.</summary>
    public List<(string Target, TimeSpan Took)> BuildTimes { get; } = [];

    internal Buildah Buildah => _buildah ?? throw new InvalidOperationException("no image was built yet");

    /// <summary>The tag of <paramref name="target"/>'s image, built from the repository's Dockerfile if it is not yet.</summary>
    public async Task<string> ImageAsync(string target)
    {
        ImageFiles.Require(ImageFiles.RootfsTar);
        await _gate.WaitAsync();
        try
        {
            if (_built.TryGetValue(target, out var tag)) return tag;
            _buildah ??= await Buildah.CreateAsync();
            tag = $"localhost/appliance-{target}:test";
            var sw = Stopwatch.StartNew();
            await _buildah.BuildAsync(ImageFiles.Root, Path.Combine(ImageFiles.Root, "Dockerfile"), target, tag);
            BuildTimes.Add((target, sw.Elapsed));
            _built[target] = tag;
            return tag;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Every container and image, the storage and its folder go (the clean-up is synchronous: it only waits on processes).</summary>
    public void Dispose()
    {
        _buildah?.Dispose();
        _gate.Dispose();
    }
}
