using System.Runtime.InteropServices;
using System.Text;
using static Tmds.Linux.LibC;

namespace Appliance.Postgres;

/// <summary>
/// The OS user PostgreSQL runs as. When the agent runs as root (<c>geteuid() == 0</c>) every
/// PostgreSQL program is started through <c>setpriv</c> as <c>postgresql.run_as</c> (PostgreSQL refuses
/// to run as root) and the files it needs are chowned to it; otherwise the agent's own user is used.
/// </summary>
public sealed record OsUser(string Name, uint Uid, uint Gid, string Home, bool SwitchFromRoot)
{
    /// <summary>Resolves <paramref name="runAs"/> when the process is root, else describes the current user.</summary>
    public static OsUser Resolve(string runAs)
    {
        if (geteuid() != 0)
        {
            return new OsUser(Environment.UserName, geteuid(), getegid(),
                Environment.GetEnvironmentVariable("HOME") ?? "/", SwitchFromRoot: false);
        }
        var pw = Passwd.Lookup(runAs) ?? throw new InvalidOperationException($"postgresql.run_as: no such user '{runAs}'");
        if (pw.Uid == 0) throw new InvalidOperationException("postgresql.run_as must not be root: PostgreSQL refuses to run as root");
        return new OsUser(runAs, pw.Uid, pw.Gid, pw.Home, SwitchFromRoot: true);
    }

    /// <summary>Gives <paramref name="path"/> to this user when running as root (no-op otherwise).</summary>
    public unsafe void Own(string path)
    {
        if (!SwitchFromRoot) return;
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (chown(p, Uid, Gid) != 0)
            {
                int e = errno;
                throw new IOException($"chown {path} to {Name}: errno {e}");
            }
        }
    }

    /// <summary>The program and arguments that run <paramref name="program"/> as this user.</summary>
    public (string Program, IReadOnlyList<string> Args) Wrap(string program, IReadOnlyList<string> args)
    {
        if (!SwitchFromRoot) return (program, args);
        // setpriv (util-linux) changes uid/gid and loads the supplementary groups, then execs: the
        // program's pid is the one we wait for, and no PAM session is opened (unlike su/runuser -l).
        var wrapped = new List<string> { $"--reuid={Uid}", $"--regid={Gid}", "--init-groups", "--", program };
        wrapped.AddRange(args);
        return ("setpriv", wrapped);
    }
}

/// <summary>
/// getpwnam_r(3): Tmds.LibC 0.5.0 has no passwd lookup, so it is declared here (glibc, &lt;pwd.h&gt;).
/// The reentrant form: no static buffer shared between threads.
/// </summary>
static partial class Passwd
{
    public sealed record Entry(uint Uid, uint Gid, string Home);

    // struct passwd from <pwd.h> (glibc, LP64); the C name is kept on purpose.
#pragma warning disable CS8981
    [StructLayout(LayoutKind.Sequential)]
    struct passwd
    {
        public nint pw_name;
        public nint pw_passwd;
        public uint pw_uid;
        public uint pw_gid;
        public nint pw_gecos;
        public nint pw_dir;
        public nint pw_shell;
    }
#pragma warning restore CS8981

    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int getpwnam_r(string name, passwd* pwd, byte* buf, nuint buflen, passwd** result);

    const int ERANGE = 34;

    public static unsafe Entry? Lookup(string name)
    {
        for (int size = 1024; size <= 1 << 20; size *= 4)
        {
            var buf = new byte[size];
            passwd pwd;
            passwd* result = null;
            int rc;
            fixed (byte* b = buf)
            {
                rc = getpwnam_r(name, &pwd, b, (nuint)size, &result);
                if (rc == 0)
                {
                    if (result == null) return null;
                    return new Entry(pwd.pw_uid, pwd.pw_gid, Marshal.PtrToStringUTF8(pwd.pw_dir) ?? "/");
                }
            }
            if (rc != ERANGE) throw new IOException($"getpwnam_r({name}): errno {rc}");
        }
        throw new IOException($"getpwnam_r({name}): entry too large");
    }
}
