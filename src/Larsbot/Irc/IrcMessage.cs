using System.Text;

namespace Larsbot.Irc;

/// <summary>
/// One IRC line (RFC 1459/2812 plus IRCv3 message tags): <c>@a=b;c :prefix CMD p1 p2 :trailing</c>.
/// Parsing never throws: servers and users send garbage, and one bad line must not kill the reader loop.
/// </summary>
internal sealed class IrcMessage
{
    private static readonly IReadOnlyDictionary<string, string> NoTags = new Dictionary<string, string>();

    public IrcMessage(string command, params string[] parameters)
        : this(NoTags, null, command, parameters)
    {
    }

    public IrcMessage(IReadOnlyDictionary<string, string> tags, string? prefix, string command, IReadOnlyList<string> parameters)
    {
        Tags = tags;
        Prefix = prefix;
        Command = command;
        Params = parameters;
        (Nick, User, Host) = SplitPrefix(prefix);
    }

    public IReadOnlyDictionary<string, string> Tags { get; }
    public string? Prefix { get; }
    /// <summary>Upper-cased verb or three-digit numeric.</summary>
    public string Command { get; }
    public IReadOnlyList<string> Params { get; }

    /// <summary>Nick part of <c>nick!user@host</c>; for a server prefix this is the server name.</summary>
    public string? Nick { get; }
    public string? User { get; }
    public string? Host { get; }

    public string? Param(int index) => index >= 0 && index < Params.Count ? Params[index] : null;

    /// <summary>The last parameter, where the text of PRIVMSG, TOPIC, KICK reasons and numerics lives.</summary>
    public string? Trailing => Params.Count > 0 ? Params[^1] : null;

    public bool IsNumeric => Command.Length == 3 && char.IsAsciiDigit(Command[0]) && char.IsAsciiDigit(Command[1]) && char.IsAsciiDigit(Command[2]);

    /// <summary>Parses one line (with or without CRLF). Returns null when there is no command to act on.</summary>
    public static IrcMessage? Parse(string? line)
    {
        if (string.IsNullOrEmpty(line))
            return null;

        var span = line.AsSpan().TrimEnd("\r\n");
        var tags = NoTags;
        string? prefix = null;

        span = span.TrimStart(' ');
        if (span.StartsWith("@"))
        {
            var end = span.IndexOf(' ');
            if (end < 0)
                return null;
            tags = ParseTags(span[1..end]);
            span = span[end..].TrimStart(' ');
        }

        if (span.StartsWith(":"))
        {
            var end = span.IndexOf(' ');
            if (end < 0)
                return null;
            prefix = span[1..end].ToString();
            if (prefix.Length == 0)
                prefix = null;
            span = span[end..].TrimStart(' ');
        }

        var cmdEnd = span.IndexOf(' ');
        var command = (cmdEnd < 0 ? span : span[..cmdEnd]).ToString().ToUpperInvariant();
        if (command.Length == 0)
            return null;
        span = cmdEnd < 0 ? ReadOnlySpan<char>.Empty : span[cmdEnd..];

        var parameters = new List<string>();
        while (true)
        {
            span = span.TrimStart(' ');
            if (span.IsEmpty)
                break;
            if (span[0] == ':')
            {
                parameters.Add(span[1..].ToString());
                break;
            }
            var end = span.IndexOf(' ');
            if (end < 0)
            {
                parameters.Add(span.ToString());
                break;
            }
            parameters.Add(span[..end].ToString());
            span = span[end..];
        }

        return new IrcMessage(tags, prefix, command, parameters);
    }

    /// <summary>
    /// The wire form without CRLF. The caller is responsible for parameters being safe (no CR, LF, NUL; only the
    /// last one may contain spaces or start with ':'); <see cref="IrcText"/> makes user text so.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Tags.Count > 0)
        {
            sb.Append('@');
            var first = true;
            foreach (var (key, value) in Tags)
            {
                if (!first)
                    sb.Append(';');
                first = false;
                sb.Append(key);
                if (value.Length > 0)
                    sb.Append('=').Append(EscapeTagValue(value));
            }
            sb.Append(' ');
        }
        if (Prefix is not null)
            sb.Append(':').Append(Prefix).Append(' ');
        sb.Append(Command);
        for (var i = 0; i < Params.Count; i++)
        {
            var p = Params[i];
            sb.Append(' ');
            if (i == Params.Count - 1 && (p.Length == 0 || p.Contains(' ') || p[0] == ':'))
                sb.Append(':');
            sb.Append(p);
        }
        return sb.ToString();
    }

    private static (string? Nick, string? User, string? Host) SplitPrefix(string? prefix)
    {
        if (prefix is null)
            return (null, null, null);
        var at = prefix.IndexOf('@');
        var hostless = at < 0 ? prefix : prefix[..at];
        var host = at < 0 ? null : prefix[(at + 1)..];
        var bang = hostless.IndexOf('!');
        return bang < 0
            ? (hostless, null, host)
            : (hostless[..bang], hostless[(bang + 1)..], host);
    }

    private static Dictionary<string, string> ParseTags(ReadOnlySpan<char> raw)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var range in raw.Split(';'))
        {
            var item = raw[range];
            if (item.IsEmpty)
                continue;
            var eq = item.IndexOf('=');
            var key = (eq < 0 ? item : item[..eq]).ToString();
            if (key.Length == 0)
                continue;
            // Later duplicates win, as the IRCv3 spec says.
            tags[key] = eq < 0 ? "" : UnescapeTagValue(item[(eq + 1)..]);
        }
        return tags;
    }

    internal static string UnescapeTagValue(ReadOnlySpan<char> value)
    {
        if (value.IndexOf('\\') < 0)
            return value.ToString();
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (++i >= value.Length)
                break; // a lone trailing backslash is dropped
            sb.Append(value[i] switch
            {
                ':' => ';',
                's' => ' ',
                'r' => '\r',
                'n' => '\n',
                var other => other, // includes "\\\\" -> "\\"; unknown escapes lose the backslash
            });
        }
        return sb.ToString();
    }

    internal static string EscapeTagValue(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            sb.Append(c switch
            {
                ';' => "\\:",
                ' ' => "\\s",
                '\\' => "\\\\",
                '\r' => "\\r",
                '\n' => "\\n",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }
}
