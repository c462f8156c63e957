using Appliance.Cli.CommandLine;

namespace Appliance.Cli.Commands;

/// <summary>
/// Questions to the operator on the terminal (click's <c>prompt</c>/<c>confirm</c>). When standard
/// input is not a terminal nobody can answer, so instead of waiting forever it refuses with a usage
/// error that names the question and says to pass <c>--force</c>.
/// </summary>
internal sealed class Prompter(TextReader input, TextWriter output, bool interactive)
{
    public bool Confirm(string question)
    {
        var answer = Ask($"{question} [y/N]: ", question);
        return answer.Trim().ToUpperInvariant() is "Y" or "YES";
    }

    /// <summary>Asks for a value; an empty answer gives <paramref name="fallback"/>.</summary>
    public string Prompt(string question, string fallback)
    {
        var answer = Ask(fallback.Length > 0 ? $"{question} [{fallback}]: " : $"{question} []: ", question).Trim();
        return answer.Length == 0 ? fallback : answer;
    }

    private string Ask(string prompt, string question)
    {
        if (!interactive)
            throw CtlException.UsageError($"'{question}' needs an answer but standard input is not a terminal: pass --force (and the options that answer it) to run without asking");
        output.Write(prompt);
        output.Flush();
        return input.ReadLine() ?? throw CtlException.UsageError($"no answer to '{question}' (end of input)");
    }
}
