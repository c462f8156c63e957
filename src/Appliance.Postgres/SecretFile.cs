namespace Appliance.Postgres;

/// <summary>
/// A short-lived 0600 file owned by the run-as user holding a secret for initdb (<c>--pwfile</c>) or
/// libpq (<c>PGPASSFILE</c>), so the secret never appears on a command line. Deleted on dispose.
/// </summary>
sealed class SecretFile : IDisposable
{
    public string Path { get; }

    SecretFile(string path) => Path = path;

    public static SecretFile Create(string dir, OsUser owner, string content)
    {
        string path = System.IO.Path.Combine(dir, $".secret-{Guid.NewGuid():N}");
        using (var fs = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var w = new StreamWriter(fs))
        {
            w.Write(content);
        }
        owner.Own(path);
        return new SecretFile(path);
    }

    public void Dispose()
    {
        try { File.Delete(Path); } catch (IOException) { }
    }
}
