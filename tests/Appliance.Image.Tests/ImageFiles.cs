namespace Appliance.Image.Tests;

/// <summary>Where the repository and the built appliance image (<c>just image</c>, image/out/) are.</summary>
static class ImageFiles
{
    /// <summary>The repository: the folder holding Appliance.sln.</summary>
    public static string Root { get; } = Appliance.Lab.Repo.Root();

    /// <summary>image/out/, where image/build.sh writes its outputs by default (and where the Dockerfile looks).</summary>
    public static string Out => Path.Combine(Root, "image", "out");

    /// <summary>The image's root filesystem without kernel and modules: the Dockerfile's base.</summary>
    public static string RootfsTar => Path.Combine(Out, "rootfs.tar");

    /// <summary>Fails the test, saying what to do, when <paramref name="path"/> (an output of <c>just image</c>) is missing: never a silent skip.</summary>
    public static string Require(string path)
    {
        if (!File.Exists(path))
            Assert.Fail($"{path} is missing: run `just image` first (it builds the appliance image and image/out/rootfs.tar; `just test` does it before the tests)");
        return path;
    }
}
