using Larsbot.Duty;
using Larsbot.Irc;
using Larsbot.Outbox;
using Larsbot.Paging;
using Larsbot.Roster;
using Microsoft.Extensions.Logging;

namespace Larsbot.Commands;

/// <summary>
/// What people type: "lars ack", "Lars_Botlesen: status". Case, extra spaces and a trailing "!" or "." are forgiven;
/// a typo gets the nearest command ("did you mean 'lars ack'?", never run), anything else a one-line pointer to help.
/// A command writes rows through the store that owns them (an ack, a duty change) and wakes the engine; every answer
/// is a line in the outbox.
/// </summary>
public sealed class ChatCommands
{
    private readonly IChannel _channel;
    private readonly OutboxStore _outbox;
    private readonly AckStore _acksStore;
    private readonly StatusReport _status;
    private readonly DutyHandover _duty;
    private readonly TeamRoster _roster;
    private readonly ILogger<ChatCommands> _log;
    private readonly IReadOnlyList<IChatCommandHandler> _handlers;
    private readonly RefusalLimiter _refusals;

    public ChatCommands(IChannel channel, OutboxStore outbox, AckStore acks, StatusReport status, DutyHandover duty, TeamRoster roster,
        ILogger<ChatCommands> log, IEnumerable<IChatCommandHandler>? handlers = null, TimeProvider? time = null)
    {
        _outbox = outbox;
        _acksStore = acks;
        _status = status;
        _duty = duty;
        _handlers = handlers?.ToList() ?? [];
        _refusals = new RefusalLimiter(time ?? TimeProvider.System);
        _channel = channel;
        _roster = roster;
        _log = log;
        // Commands run one at a time off the IRC reader: a slow disk during an ack must never hold up PONGs (and a
        // reconnect) or reorder two acks. What to queue is decided here, cheaply, so chatter can never crowd out a
        // command: lines not for the bot are not queued at all; roster people's commands wait in queues that never
        // drop, acks ahead of the rest (in their own order); strangers' commands share a small queue that drops.
        channel.MessageReceived += m =>
        {
            Accept(m);
            return Task.CompletedTask;
        };
        _worker = Task.Run(ProcessAsync);
    }

    /// <summary>Strangers' commands waiting at most; more are dropped (they only ever get a rate-limited refusal).</summary>
    public const int StrangerQueueLimit = 20;

    private readonly System.Collections.Concurrent.ConcurrentQueue<(ChannelMessage Message, string Command)> _acks = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<(ChannelMessage Message, string Command)> _rosterCommands = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<(ChannelMessage Message, string Command)> _strangers = new();
    private readonly SemaphoreSlim _pending = new(0); // one count per queued command, whichever queue holds it
    private int _strangersQueued;
    private int _strangersDropped;
    private readonly Task _worker;

    private void Accept(ChannelMessage m)
    {
        var command = Extract(m.Text, _channel.CurrentNick, m.IsPrivate);
        if (command is null) return;
        if (Identify(m).Verified)
        {
            (command == "ack" ? _acks : _rosterCommands).Enqueue((m, command));
        }
        else if (Interlocked.Increment(ref _strangersQueued) <= StrangerQueueLimit)
        {
            _strangers.Enqueue((m, command));
        }
        else
        {
            Interlocked.Decrement(ref _strangersQueued);
            Interlocked.Increment(ref _strangersDropped);
            return;
        }
        _pending.Release();
    }

    private async Task ProcessAsync()
    {
        while (true)
        {
            await _pending.WaitAsync();
            // Enqueued before released, and this is the only reader: one of the three holds a command.
            if (!_acks.TryDequeue(out var next) && !_rosterCommands.TryDequeue(out next))
            {
                _strangers.TryDequeue(out next);
                Interlocked.Decrement(ref _strangersQueued);
                if (Interlocked.Exchange(ref _strangersDropped, 0) is > 0 and var dropped)
                    _log.LogWarning("Dropped {Count} commands from people not in the roster (too many at once)", dropped);
            }
            await OnMessageAsync(next.Message, next.Command);
        }
    }

    /// <summary>The command words after "lars " or "botnick: ", or null when the line is not for the bot.</summary>
    public static string? Extract(string text, string botNick, bool isPrivate)
    {
        var t = text.Trim();
        foreach (var name in new[] { "lars", botNick })
        {
            if (t.Length > name.Length && t.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                var rest = t[name.Length..];
                if (rest[0] is ':' or ',' or ' ' or '\t')
                    return Normalise(rest.TrimStart(':', ',', ' ', '\t'));
            }
        }
        return isPrivate ? Normalise(t) : null;
    }

    private static string Normalise(string s) =>
        string.Join(' ', s.TrimEnd('!', '.', '?', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();

    private async Task OnMessageAsync(ChannelMessage m, string command)
    {
        try
        {
            await RunAsync(m, command);
        }
        catch (Exception e)
        {
            _log.LogError(e, "Command '{Command}' from {Nick} failed", command, m.Nick);
            var sorry = $"{m.Nick}: sorry, that failed on my side ({e.GetType().Name}); the log has details";
            try
            {
                await _outbox.SayAsync(sorry);
            }
            catch (Exception again)
            {
                // The disk refuses the outbox row too: tell the channel directly rather than not at all.
                _log.LogError(again, "Could not write the answer to '{Command}'; saying it directly", command);
                _channel.Say(sorry);
            }
        }
    }

    /// <summary>A command from a nick alone (no user, host or account known): only people identified by nick may act.</summary>
    /// <param name="original">The line as typed, for commands that carry free text (an incident report).</param>
    public Task RunAsync(string nick, string command, string? original = null) =>
        RunAsync(new ChannelMessage(nick, "", "", "", original ?? command, null), command);

    /// <param name="command">The normalised command words; <c>from.Text</c> keeps the line as typed for free text.</param>
    public async Task RunAsync(ChannelMessage from, string command)
    {
        var nick = from.Nick;
        var who = Identify(from);
        if (command is "" or "commands" or "help" || command.StartsWith("help ", StringComparison.Ordinal))
        {
            // Strangers may read the help too, but not make the bot repeat it without limit.
            if (who.Verified || _refusals.MayAnswer(nick)) await SayHelpAsync(nick, command);
            return;
        }
        if (!who.Verified)
        {
            // Counted and logged always; answered at most once a minute per nick (a few a minute overall), so a
            // stranger repeating "lars ack" cannot push alert lines out of the bot's say queue.
            _log.LogInformation("Refused '{Command}' from {Nick}!{User}@{Host} (account {Account}): {How}",
                command.Length > 30 ? command[..30] : command, nick, from.User, from.Host, from.Account ?? "none", who.How);
            if (_refusals.MayAnswer(nick))
                await _outbox.SayAsync(who.Person is null
                    ? $"sorry {nick}, you're not in the roster, so I can't take commands from you. Ask the team to add your nick."
                    : who.How == NotPresent
                        ? $"sorry {nick}, I only take commands from people in the channel or logged in to their account: join the channel and say it there."
                        : $"sorry {nick}, that nick is {who.Person.Id}'s but I can't verify it's you (log in to your account or use your usual host).");
            return;
        }
        var person = who.Person!;
        switch (command)
        {
            case "ack":
                await _acksStore.AckAsync(nick, person);
                break;
            case "status":
                await _outbox.SayAsync(await _status.StatusAsync());
                break;
            case "duty" or "duty who" or "who":
                await _outbox.SayAsync(await _duty.ReportAsync());
                break;
            case "duty take" or "take duty" or "take":
                await _duty.TakeAsync(nick, person);
                break;
            default:
                foreach (var h in _handlers)
                    if (await h.TryRunAsync(nick, person, command, from.Text.Length > 0 ? from.Text : command)) return;
                // A guess is only said, never run: "lars akc" must not ack, "lars duty tkae" must not move duty.
                if (CommandHelp.Nearest(command) is { } guess)
                {
                    await _outbox.SayAsync($"{nick}: did you mean 'lars {Cut(guess)}'?");
                    break;
                }
                await _outbox.SayAsync($"{nick}: I don't know '{Cut(command)}'. 'lars help' lists the commands.");
                break;
        }
    }

    private const string NotPresent = "not in channel";

    /// <summary>
    /// The roster decides who a speaker is (account, hostmask, nick); on top of that, someone the server does not
    /// vouch for by account must be in the channel. A private message reaches the bot from anyone on the network,
    /// and a nick is free for anyone the moment its owner leaves.
    /// </summary>
    private Identification Identify(ChannelMessage m)
    {
        var who = _roster.Identify(m.Nick, m.User, m.Host, m.Account);
        return who.Verified && who.How != "account" && !m.InChannel ? new Identification(who.Person, NotPresent) : who;
    }

    private static string Cut(string words) => words.Length > 30 ? words[..30] + "…" : words;

    /// <summary>`lars help` (five short lines) or `lars help &lt;command&gt;` (that command's details).</summary>
    private Task SayHelpAsync(string nick, string command)
    {
        var topic = command.StartsWith("help ", StringComparison.Ordinal) ? command[5..] : "";
        if (CommandHelp.For(topic) is { } lines) return _outbox.SayAsync(lines.ToList());
        if (CommandHelp.Nearest(topic) is { } guess) return _outbox.SayAsync($"{nick}: did you mean 'lars help {Cut(guess)}'?");
        return _outbox.SayAsync(CommandHelp.Short.ToList());
    }
}

/// <summary>
/// Answers to unverified speakers: one per nick per minute and at most five a minute in all, on the injected clock.
/// Refusing silently would confuse a new team member; refusing every time would let anyone flood the channel.
/// </summary>
internal sealed class RefusalLimiter(TimeProvider time)
{
    private static readonly TimeSpan PerNick = TimeSpan.FromMinutes(1);
    private const int OverallPerMinute = 5;
    private readonly Dictionary<string, DateTimeOffset> _lastByNick = new();
    private readonly Queue<DateTimeOffset> _recent = new();
    private readonly Lock _lock = new();

    public bool MayAnswer(string nick)
    {
        var now = time.GetUtcNow();
        var key = IrcCase.Fold(nick);
        lock (_lock)
        {
            while (_recent.Count > 0 && now - _recent.Peek() >= PerNick) _recent.Dequeue();
            if (_recent.Count >= OverallPerMinute) return false;
            if (_lastByNick.TryGetValue(key, out var last) && now - last < PerNick) return false;
            if (_lastByNick.Count > 1000)
                foreach (var old in _lastByNick.Where(kv => now - kv.Value >= PerNick).Select(kv => kv.Key).ToList()) _lastByNick.Remove(old);
            _lastByNick[key] = now;
            _recent.Enqueue(now);
            return true;
        }
    }
}
