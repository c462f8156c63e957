using System.Text;
using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary>
/// Bad input gets errors, never an exception: random mutations of a valid file (deterministic
/// seed, so a failure reproduces) must load or return errors that name a place.
/// </summary>
public sealed class ConfigFuzzTests
{
    private const int Iterations = 2000;

    // Characters that matter to TOML's grammar, plus some that should never appear.
    private static readonly string Interesting = "[]{}=\"'.,#\n\r\t \\-_+:01239eExXoObB\0\u00e9\u2028\ud800tfinan";

    [Fact]
    public void Mutated_files_return_errors_and_never_throw()
    {
        var random = new Random(20240611);
        var valid = ConfigText.Full;
        var errors = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var text = Mutate(valid, random, 1 + random.Next(4));
            ConfigResult result;
            try
            {
                result = ConfigLoader.LoadFromText([("fuzz.toml", text), ("conf.d/10.toml", Mutate("[agent]\nttl = 60\n", random, random.Next(2)))]);
            }
            catch (Exception ex)
            {
                Assert.Fail($"iteration {i} threw {ex.GetType().Name}: {ex.Message}\n--- input ---\n{text}");
                return;
            }

            Assert.Equal(result.IsValid, result.Errors.Count == 0);
            foreach (var error in result.Errors)
            {
                Assert.False(string.IsNullOrEmpty(error.Message));
                Assert.True(error.Line >= 0 && error.Column >= 0, error.ToString());
            }
            if (!result.IsValid)
            {
                errors++;
                _ = ConfigPrinter.Render(new ApplianceConfig());
            }
            else
            {
                // Whatever loads must also print and load back.
                Assert.True(ConfigLoader.LoadFromText([("rendered.toml", ConfigPrinter.Render(result.Config))]).IsValid);
            }
        }
        // The mutations must actually break files, or the test proves nothing.
        Assert.True(errors > Iterations / 4, $"only {errors} of {Iterations} mutated files had errors");
    }

    private static string Mutate(string text, Random random, int count)
    {
        var builder = new StringBuilder(text);
        for (var i = 0; i < count && builder.Length > 0; i++)
        {
            var at = random.Next(builder.Length);
            switch (random.Next(5))
            {
                case 0:
                    builder[at] = Interesting[random.Next(Interesting.Length)];
                    break;
                case 1:
                    builder.Insert(at, Interesting[random.Next(Interesting.Length)]);
                    break;
                case 2:
                    builder.Remove(at, Math.Min(1 + random.Next(8), builder.Length - at));
                    break;
                case 3:
                    var from = random.Next(builder.Length);
                    var length = Math.Min(1 + random.Next(40), builder.Length - from);
                    builder.Insert(at, builder.ToString(from, length));
                    break;
                default:
                    builder[at] = (char)random.Next(0x20, 0x7f);
                    break;
            }
        }
        return builder.ToString();
    }
}
