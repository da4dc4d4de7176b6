using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Larsbot.Roster;

/// <summary>A roster problem, worded for the person editing the file: it names the field and what is wrong.</summary>
public sealed class RosterException(string message) : Exception(message);

/// <summary>
/// Reads and validates the roster JSON. Every problem found is reported at once (not just the first), each naming
/// its field as a JSON path, so a typo at 3 a.m. is fixed in one edit.
/// </summary>
public static partial class RosterLoader
{
    [GeneratedRegex(@"^\+[1-9][0-9]{6,14}$")]
    private static partial Regex E164();

    [GeneratedRegex(@"^[A-Za-z0-9]{30}$")]
    private static partial Regex PushoverKey();

    [GeneratedRegex(@"^[a-z][a-z0-9_.-]{0,31}$")]
    private static partial Regex PersonId();

    // RFC 2812 nick characters; first must not be a digit or '-'.
    [GeneratedRegex(@"^[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}$")]
    private static partial Regex Nick();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex Email();

    [GeneratedRegex(@"^[^\s!@*?,:\x00-\x1f]{1,64}$")]
    private static partial Regex Account();

    [GeneratedRegex(@"^[^\s!@\x00-\x1f]{1,64}![^\s!@\x00-\x1f]{1,64}@(?<host>[^\s!@\x00-\x1f]{1,255})$")]
    private static partial Regex Hostmask();

    public static TeamRoster LoadFile(string path, bool showContacts = true)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RosterException($"roster {path}: cannot read it ({e.Message})");
        }
        return Parse(json, path, showContacts);
    }

    public static TeamRoster Parse(string json, string source = "roster", bool showContacts = true)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new RosterException($"{source}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }

        using (doc)
        {
            var errors = new List<string>();
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new RosterException($"{source}: the top level must be an object with \"ledger\" and \"people\"");

            var ledger = ReadLedger(root, errors);
            var people = ReadPeople(root, errors, showContacts);
            if (errors.Count > 0)
                throw new RosterException($"{source} has {errors.Count} problem(s):\n  " + string.Join("\n  ", errors));
            return new TeamRoster(ledger!, people);
        }
    }

    private static LedgerSettings? ReadLedger(JsonElement root, List<string> errors)
    {
        if (!root.TryGetProperty("ledger", out var l) || l.ValueKind != JsonValueKind.Object)
        {
            errors.Add("ledger: missing; expected {\"currency\": \"AUD\", \"stipendPerDay\": 40.00, \"pageBonus\": 20.00, \"timeZone\": \"Australia/Melbourne\"}");
            return null;
        }
        var currency = String(l, "ledger.currency", "currency", errors, required: true);
        if (currency is not null && !Regex.IsMatch(currency, "^[A-Z]{3}$"))
            errors.Add($"ledger.currency: '{currency}' is not an ISO 4217 code like AUD or EUR");
        var stipend = Money(l, "ledger.stipendPerDay", "stipendPerDay", errors);
        var bonus = Money(l, "ledger.pageBonus", "pageBonus", errors);
        var tzId = String(l, "ledger.timeZone", "timeZone", errors, required: true);
        var tz = tzId is null ? null : Zone(tzId, "ledger.timeZone", errors);
        return currency is null || tz is null ? null : new LedgerSettings(currency, stipend, bonus, tzId!, tz);
    }

    private static List<Person> ReadPeople(JsonElement root, List<string> errors, bool showContacts)
    {
        var people = new List<Person>();
        if (!root.TryGetProperty("people", out var arr) || arr.ValueKind != JsonValueKind.Array)
        {
            errors.Add("people: missing; expected a list of people");
            return people;
        }
        if (arr.GetArrayLength() == 0)
            errors.Add("people: empty; at least one person is needed to page anyone");

        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var nicks = new Dictionary<string, string>();
        var accounts = new Dictionary<string, string>();
        var i = 0;
        foreach (var p in arr.EnumerateArray())
        {
            var at = $"people[{i++}]";
            if (p.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{at}: must be an object");
                continue;
            }
            var id = String(p, $"{at}.id", "id", errors, required: true);
            if (id is not null)
            {
                if (!PersonId().IsMatch(id))
                    errors.Add($"{at}.id: '{id}' must be lower-case letters, digits, '_', '.' or '-' (max 32), starting with a letter");
                else if (ids.TryGetValue(id, out var other))
                    errors.Add($"{at}.id: '{id}' is already used by {other}");
                else
                    ids[id] = at;
            }
            var name = String(p, $"{at}.name", "name", errors, required: true);

            var personNicks = new List<string>();
            if (!p.TryGetProperty("nicks", out var n) || n.ValueKind != JsonValueKind.Array || n.GetArrayLength() == 0)
                errors.Add($"{at}.nicks: missing; list the IRC nicks this person uses, e.g. [\"{id ?? "brong"}\", \"{id ?? "brong"}_\"]");
            else
            {
                var j = 0;
                foreach (var nickEl in n.EnumerateArray())
                {
                    var nat = $"{at}.nicks[{j++}]";
                    var nick = nickEl.ValueKind == JsonValueKind.String ? nickEl.GetString()! : null;
                    if (nick is null || !Nick().IsMatch(nick))
                    {
                        errors.Add($"{nat}: '{nickEl}' is not a valid IRC nick");
                        continue;
                    }
                    var folded = IrcCase.Fold(nick);
                    if (nicks.TryGetValue(folded, out var other))
                        errors.Add($"{nat}: nick '{nick}' is already used by {other}");
                    else
                        nicks[folded] = nat;
                    personNicks.Add(nick);
                }
            }

            var tzId = String(p, $"{at}.timeZone", "timeZone", errors, required: true);
            var tz = tzId is null ? null : Zone(tzId, $"{at}.timeZone", errors);

            var email = String(p, $"{at}.email", "email", errors, required: false);
            if (email is not null && !Email().IsMatch(email))
                errors.Add($"{at}.email: '{email}' is not an e-mail address");
            var phone = String(p, $"{at}.phone", "phone", errors, required: false);
            if (phone is not null && !E164().IsMatch(phone))
                errors.Add($"{at}.phone: '{phone}' is not E.164 (a '+', the country code, then the number: +61400000001)");
            var pushover = String(p, $"{at}.pushover", "pushover", errors, required: false);
            if (pushover is not null && !PushoverKey().IsMatch(pushover))
                errors.Add($"{at}.pushover: not a Pushover user key (30 letters and digits)");
            if (phone is null && pushover is null)
                errors.Add($"{at}: has neither phone nor pushover, so could never be paged");
            var call = false;
            if (p.TryGetProperty("call", out var callValue))
            {
                if (callValue.ValueKind is JsonValueKind.True or JsonValueKind.False) call = callValue.GetBoolean();
                else errors.Add($"{at}.call: must be true or false");
                if (call && phone is null) errors.Add($"{at}.call: true needs a phone number to call");
            }

            var personAccounts = Strings(p, $"{at}.accounts", "accounts", errors, (a, path) =>
            {
                if (!Account().IsMatch(a)) return $"{path}: '{a}' is not a services account name (no spaces, '!', '@', '*' or '?')";
                var folded = IrcCase.Fold(a);
                if (accounts.TryGetValue(folded, out var other)) return $"{path}: account '{a}' is already used by {other}";
                accounts[folded] = path;
                return null;
            });
            var personMasks = Strings(p, $"{at}.hostmasks", "hostmasks", errors, (m, path) =>
            {
                var match = Hostmask().Match(m);
                if (!match.Success) return $"{path}: '{m}' is not a hostmask like \"*!brong@*.example.com\" (nick!user@host, * and ? allowed)";
                // A host part of only wildcards would let anyone with the right ident in: refuse it.
                if (match.Groups["host"].Value.Trim('*', '?', '.').Length == 0)
                    return $"{path}: '{m}' matches any host; name the host or domain (\"*!brong@*.example.com\")";
                return null;
            });

            if (id is not null && name is not null && tz is not null)
                people.Add(new Person(id, name, personNicks, tzId!, tz, email, phone, pushover)
                {
                    Accounts = personAccounts,
                    Hostmasks = personMasks,
                    MaskContacts = !showContacts,
                    Call = call,
                });
        }
        return people;
    }

    /// <summary>An optional array of strings; each is checked by <paramref name="check"/> (null: fine).</summary>
    private static List<string> Strings(JsonElement obj, string path, string name, List<string> errors, Func<string, string, string?> check)
    {
        var list = new List<string>();
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return list;
        if (v.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}: must be a list of strings");
            return list;
        }
        var j = 0;
        foreach (var el in v.EnumerateArray())
        {
            var at = $"{path}[{j++}]";
            if (el.ValueKind != JsonValueKind.String || el.GetString()!.Trim() is not { Length: > 0 } s)
            {
                errors.Add($"{at}: must be a non-empty string");
                continue;
            }
            if (check(s, at) is { } problem) errors.Add(problem);
            else list.Add(s);
        }
        return list;
    }

    private static string? String(JsonElement obj, string path, string name, List<string> errors, bool required)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required) errors.Add($"{path}: missing");
            return null;
        }
        if (v.ValueKind != JsonValueKind.String)
        {
            errors.Add($"{path}: must be a string");
            return null;
        }
        var s = v.GetString()!.Trim();
        if (s.Length == 0)
        {
            if (required) errors.Add($"{path}: empty");
            return null;
        }
        return s;
    }

    private static decimal Money(JsonElement obj, string path, string name, List<string> errors)
    {
        if (!obj.TryGetProperty(name, out var v))
        {
            errors.Add($"{path}: missing");
            return 0m;
        }
        // Read the number's text as decimal: money never passes through floating point.
        if (v.ValueKind == JsonValueKind.Number &&
            decimal.TryParse(v.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0)
            return d;
        errors.Add($"{path}: '{v}' must be a number of at least 0");
        return 0m;
    }

    private static TimeZoneInfo? Zone(string id, string path, List<string> errors)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            errors.Add($"{path}: '{id}' is not a known time zone (use an IANA name like Australia/Melbourne or Europe/Oslo)");
            return null;
        }
    }
}
