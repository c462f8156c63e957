using System.Runtime.InteropServices;

namespace Appliance.Lab;

/// <summary>SIGINT (Ctrl-C) and SIGTERM cancel the token instead of killing the process, so the lab always cleans up what it started.</summary>
public sealed class StopSignals : IDisposable
{
    readonly PosixSignalRegistration _int;
    readonly PosixSignalRegistration _term;

    public StopSignals(CancellationTokenSource stop)
    {
        void Handle(PosixSignalContext c)
        {
            c.Cancel = true;
            stop.Cancel();
        }
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    public void Dispose()
    {
        _int.Dispose();
        _term.Dispose();
    }
}
