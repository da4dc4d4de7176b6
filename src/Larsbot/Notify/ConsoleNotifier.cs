namespace Larsbot.Notify;

/// <summary>
/// Stands in for a provider that has no credentials: prints the page on one line so a developer (or a journal)
/// still sees it, and reports it Sent so the outbox does not retry forever.
/// </summary>
internal sealed class ConsoleNotifier : INotifier
{
    private readonly TextWriter _output;
    private readonly Lock _gate = new();
    private long _count;

    public ConsoleNotifier(string channel, TextWriter? output = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(channel);
        Channel = channel;
        _output = output ?? Console.Out;
    }

    public string Channel { get; }

    public Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();

        var id = $"console-{Interlocked.Increment(ref _count)}";
        // SMS bodies arrive fully composed; a push also has a title worth showing.
        var text = Channel != "sms" && !string.IsNullOrWhiteSpace(message.Title) ? $"{message.Title}: {message.Body}" : message.Body;
        var line = $"[console {Channel}] to {Recipient(message.Destination)}: {ProviderHttp.OneLine(text, int.MaxValue)} ({Reason})";
        lock (_gate)
        {
            _output.WriteLine(line);
            _output.Flush();
        }
        return Task.FromResult(SendResult.Sent(id, $"printed to console ({Reason})"));
    }

    // A phone number helps whoever reads the console; a Pushover user key is a credential, so only its start is shown.
    private string Recipient(string destination) =>
        Channel == "sms" || destination.Length <= 8 ? destination : destination[..4] + "…";

    private string Reason => Channel switch
    {
        "sms" => "no Twilio credentials configured",
        "push" => "no Pushover credentials configured",
        _ => "no provider configured",
    };
}
