using System.Text;
using Xunit.Abstractions;

namespace Appliance.Image.Tests.VmLab;

/// <summary>The lab's progress lines into the test's output (and the console, so a long run shows it is alive).</summary>
internal sealed class TestOutputWriter(ITestOutputHelper output) : TextWriter
{
    readonly StringBuilder _line = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        if (value != '\n')
        {
            _line.Append(value);
            return;
        }
        var line = _line.ToString();
        _line.Clear();
        output.WriteLine(line);
        Console.WriteLine($"[vm-lab] {line}");
    }
}
