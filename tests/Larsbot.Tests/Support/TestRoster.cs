using Larsbot.Roster;

namespace Larsbot.Tests.Support;

public static class TestRoster
{
    /// <summary>The repository's roster.sample.json: brong (phone+push), robn (phone+push), neilj (phone only).</summary>
    public static TeamRoster Sample() => RosterLoader.LoadFile(Path.Combine(RepoPaths.Root, "roster.sample.json"));

    /// <summary>
    /// A line said in the channel by a client on loopback, as ngircd shows it (nick!~nick@127.0.0.1): the sample
    /// roster's 127.0.0.1 hostmasks recognise brong, brong_, robn, neilj and neilj_ this way.
    /// </summary>
    public static Larsbot.Irc.ChannelMessage Local(string nick, string text) =>
        new(nick, "~" + nick.ToLowerInvariant(), "127.0.0.1", "#ops", text, null);

    /// <summary>A team of <paramref name="n"/> (p1..pN, nicks p1..pN), each with a phone and a Pushover key: a big everyone-page.</summary>
    public static string LargeJson(int n) =>
        "{\"ledger\": {\"currency\": \"AUD\", \"stipendPerDay\": 40.00, \"pageBonus\": 20.00, \"timeZone\": \"UTC\"}, \"people\": [" +
        string.Join(",", Enumerable.Range(1, n).Select(i =>
            $"{{\"id\": \"p{i}\", \"name\": \"Person {i}\", \"nicks\": [\"p{i}\"], \"timeZone\": \"UTC\", " +
            $"\"phone\": \"+6140000{i:D4}\", \"pushover\": \"u{i:D4}{new string('x', 25)}\"}}")) + "]}";

    /// <summary><see cref="LargeJson"/> loaded through a file, as the bot loads it.</summary>
    public static TeamRoster Large(int n) => FromJson(LargeJson(n));

    /// <summary>A roster file with this text, loaded as the bot loads it (from a temp folder, removed after).</summary>
    public static TeamRoster FromJson(string json)
    {
        var dir = Directory.CreateTempSubdirectory("larsbot-roster-").FullName;
        try
        {
            var path = Path.Combine(dir, "roster.json");
            File.WriteAllText(path, json);
            return RosterLoader.LoadFile(path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

public static class RepoPaths
{
    /// <summary>The repository root: the folder holding Larsbot.sln, found from the test binary upwards.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Larsbot.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Larsbot.sln not found above " + AppContext.BaseDirectory);
    }
}
