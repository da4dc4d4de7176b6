namespace Larsbot.Commands;

/// <summary>
/// What the bot says about its commands at 3 a.m.: a short list, details per command on request, and for a typo the
/// nearest command (by Damerau-Levenshtein distance on the command words) rather than the whole list.
/// </summary>
public static class CommandHelp
{
    /// <summary>`lars help`: five short lines, the details behind `lars help &lt;command&gt;`.</summary>
    public static readonly IReadOnlyList<string> Short =
    [
        "lars ack: stop the page (then ack mode for a while)",
        "lars status | lars duty | lars duty take | lars duty give <nick>",
        "lars shush <host> <2h> [why] | lars unshush <id>",
        "lars report <alert-id> <text or URL> | lars payout",
        "details: lars help <command>, e.g. lars help shush",
    ];

    private static readonly Dictionary<string, string[]> Details = new()
    {
        ["ack"] =
        [
            "lars ack: stops every countdown and page not yet sent, for all open alerts",
            "then ack mode: urgent alerts are shown but do not page until it ends; another ack renews it",
        ],
        ["status"] = ["lars status: the mode, who is on duty, each open alert with its countdown or page, active shushes"],
        ["duty"] =
        [
            "lars duty: who is on duty, since when, their local time | lars duty take: you take duty now",
            "lars duty give <nick>: offer duty; they say lars duty accept (within 10 minutes) or lars duty decline",
            "lars duty history: the last duty changes, in your time zone",
        ],
        ["report"] =
        [
            "lars report <alert-id> <what broke and what you did, or a URL>",
            "the incident report for a page you acked; it releases your page bonus",
        ],
        ["payout"] = ["lars payout: this month's payout so far, per person, in one line"],
        ["shush"] =
        [
            "lars shush <host or glob> <90s|30m|2h|1d> [why], e.g. lars shush db* 2h kernel upgrade",
            "matching alerts are shown but never page (at most 7 days) | lars unshush <id> ends one early",
            "a pattern that hides every known host needs --all: lars shush * 1h --all maintenance",
        ],
        ["help"] = ["lars help: the command list | lars help <command>: details for one"],
    };

    /// <summary>A command people type, its words, and whether more words (arguments) follow them.</summary>
    private sealed record Known(string Words, bool TakesArguments, string Topic);

    private static readonly Known[] Commands =
    [
        new("ack", false, "ack"),
        new("status", false, "status"),
        new("duty", false, "duty"),
        new("duty take", false, "duty"),
        new("duty give", true, "duty"),
        new("duty accept", false, "duty"),
        new("duty decline", false, "duty"),
        new("duty history", false, "duty"),
        new("report", true, "report"),
        new("payout", false, "payout"),
        new("shush", true, "shush"),
        new("unshush", true, "shush"),
        new("help", true, "help"),
    ];

    /// <summary>
    /// The lines for `lars help &lt;topic&gt;` (topic as normalised: lower case, single spaces), or null when the
    /// topic is no command. "duty give", "unshush" and a leading "lars" are forgiven.
    /// </summary>
    public static IReadOnlyList<string>? For(string topic)
    {
        var words = topic.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipWhile(w => w == "lars").ToArray();
        if (words.Length == 0) return Short;
        for (var n = words.Length; n > 0; n--)
        {
            var prefix = string.Join(' ', words.Take(n));
            if (Commands.FirstOrDefault(c => c.Words == prefix) is { } known) return Details[known.Topic];
        }
        return null;
    }

    /// <summary>
    /// The command the typed words were most likely meant to be, with any arguments as typed ("shsh db* 2h" →
    /// "shush db* 2h"), or null when nothing is close. Never run: only suggested.
    /// </summary>
    public static string? Nearest(string command)
    {
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) return null;
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var known in Commands)
        {
            var n = known.Words.Count(c => c == ' ') + 1;
            string typed, rest;
            if (known.TakesArguments)
            {
                if (words.Length < n) continue;
                typed = string.Join(' ', words.Take(n));
                rest = string.Join(' ', words.Skip(n));
            }
            else
            {
                // Compared whole, so "dutytake" is still "duty take" and "ack now" is not "ack".
                typed = command;
                rest = "";
            }
            // A start of three letters or more ("duty hist", "stat") counts as one slip, whatever is missing.
            var d = typed.Length >= 3 && known.Words.StartsWith(typed, StringComparison.Ordinal) ? Math.Min(1, known.Words.Length - typed.Length)
                : Math.Abs(typed.Length - known.Words.Length) > Allowed(known.Words.Length) ? int.MaxValue
                : Distance(typed, known.Words);
            if (d < bestDistance && d <= Allowed(known.Words.Length))
            {
                bestDistance = d;
                best = rest.Length == 0 ? known.Words : known.Words + " " + rest;
            }
        }
        return best;
    }

    /// <summary>One slip in a short word, two in a longer one, three in "duty history".</summary>
    private static int Allowed(int length) => length <= 4 ? 1 : length <= 8 ? 2 : 3;

    /// <summary>
    /// Damerau-Levenshtein distance (optimal string alignment: insert, delete, substitute, or swap two neighbours,
    /// each costing one), so "akc" is one slip from "ack".
    /// </summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
