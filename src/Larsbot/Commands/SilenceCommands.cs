using System.Globalization;
using System.Text.RegularExpressions;
using Larsbot.Outbox;
using Larsbot.Paging;
using Larsbot.Roster;

namespace Larsbot.Commands;

/// <summary>`lars shush &lt;host or glob&gt; &lt;duration&gt; [reason]` and `lars unshush &lt;id&gt;`.</summary>
internal sealed partial class SilenceCommands(SilenceStore silences, OutboxStore outbox) : IChatCommandHandler
{
    // Pattern and reason keep their case, so they are taken from the line as typed.
    [GeneratedRegex(@"\bshush\s+(\S+)\s+(\S+)(?:\s+(.+?))?\s*$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ShushLine();

    // `--all` may stand anywhere after the command word: it is taken out before the rest is read.
    [GeneratedRegex(@"(?<!\S)--all(?!\S)", RegexOptions.IgnoreCase)]
    private static partial Regex AllFlag();

    [GeneratedRegex(@"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")]
    private static partial Regex DurationText();

    private const string Usage = "say 'lars shush <host or glob> <duration like 30m, 2h, 1d> [reason]' or 'lars unshush <id>'";

    public async Task<bool> TryRunAsync(string nick, Person person, string command, string original)
    {
        var words = command.Split(' ');
        switch (words)
        {
            case ["shush", ..]:
                var all = AllFlag().IsMatch(original);
                var m = ShushLine().Match(all ? AllFlag().Replace(original, " ") : original);
                if (!m.Success || ParseDuration(m.Groups[2].Value) is not { } duration)
                {
                    await outbox.SayAsync($"{nick}: {Usage}.");
                    return true;
                }
                if (duration > SilenceStore.MaxSilence)
                {
                    await outbox.SayAsync($"{nick}: a shush lasts at most {SilenceStore.MaxSilence.TotalDays:0} days.");
                    return true;
                }
                var pattern = m.Groups[1].Value;
                if (!all && pattern.Trim('*', '?', '.').Length == 0)
                {
                    await outbox.SayAsync($"{nick}: '{pattern}' would silence every host; name a host or a pattern like db*, or add --all if you mean every host.");
                    return true;
                }
                if (!all && await EveryKnownHostAsync(pattern) is { } hidden)
                {
                    await outbox.SayAsync($"{nick}: '{pattern}' matches all {hidden} hosts seen in recent alerts and would hide every one of them; " +
                                $"name fewer, or say 'lars shush {pattern} {m.Groups[2].Value} --all{(m.Groups[3].Success ? " " + m.Groups[3].Value : "")}' if you mean it.");
                    return true;
                }
                await outbox.SayAsync(await silences.ShushAsync(nick, person, pattern, duration, m.Groups[3].Success ? m.Groups[3].Value : null));
                return true;
            case ["unshush", var idText] when long.TryParse(idText.TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out var id):
                await outbox.SayAsync(await silences.UnshushAsync(nick, id));
                return true;
            case ["unshush", ..]:
                await outbox.SayAsync($"{nick}: {Usage}.");
                return true;
            default:
                return false;
        }
    }

    /// <summary>How many known hosts <paramref name="pattern"/> would hide, when that is all of them (two or more); else null.</summary>
    private async Task<int?> EveryKnownHostAsync(string pattern)
    {
        var known = await silences.KnownHostsAsync();
        return known.Count >= 2 && known.All(h => Wildcard.IsMatch(pattern, h)) ? known.Count : null;
    }

    /// <summary>"90s", "30m", "2h", "1d", "1h30m"; null when not a positive duration.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        var m = DurationText().Match(text.ToLowerInvariant());
        if (!m.Success || text.Length == 0) return null;
        long Part(int i) => m.Groups[i].Success ? long.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) : 0;
        if (Part(1) > 3650 || Part(2) > 100000 || Part(3) > 10000000 || Part(4) > 100000000) return null;
        var t = TimeSpan.FromDays(Part(1)) + TimeSpan.FromHours(Part(2)) + TimeSpan.FromMinutes(Part(3)) + TimeSpan.FromSeconds(Part(4));
        return t > TimeSpan.Zero ? t : null;
    }
}
