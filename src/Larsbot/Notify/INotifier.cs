namespace Larsbot.Notify;

/// <summary>
/// One way of reaching a person's phone. Implementations make exactly one attempt and classify the answer;
/// retrying lives once, in the outbox sender, so every provider gets the same durable backoff.
/// </summary>
public interface INotifier
{
    /// <summary>"sms" or "push": the outbox row's channel this notifier serves.</summary>
    string Channel { get; }

    /// <summary>Send one page. Must not throw for provider or network failures: return Retry or GiveUp instead.</summary>
    Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken);
}

/// <summary>What to send and to whom. <see cref="Destination"/> is a phone number (sms) or a Pushover user key (push).</summary>
public sealed record PageMessage(string PersonId, string Destination, string Title, string Body)
{
    /// <summary>Which notifier it is for ("sms"/"push"), when the sender needs to carry that with the message.</summary>
    public string? Channel { get; init; }

    /// <summary>False for an informational follow-up ("brong has it"): sent without emergency priority, never rings.</summary>
    public bool Urgent { get; init; } = true;
}

public enum SendOutcome
{
    /// <summary>The provider accepted it; <see cref="SendResult.ProviderId"/> holds its id.</summary>
    Sent,
    /// <summary>Worth trying again later (429, 5xx, timeout, network).</summary>
    Retry,
    /// <summary>Will never work as it is (4xx other than 429: bad number, bad key, bad credentials).</summary>
    GiveUp,
}

/// <param name="Detail">The provider's answer in one line (status and body, secrets removed), stored with the attempt.</param>
/// <param name="RetryAfter">The provider's Retry-After, when it gave one.</param>
/// <param name="MayHaveBeenDelivered">
/// True when the request may have been processed although we saw no success (timeout, 5xx): a retry risks a
/// duplicate, which is counted.
/// </param>
public sealed record SendResult(
    SendOutcome Outcome,
    string? ProviderId,
    string Detail,
    TimeSpan? RetryAfter = null,
    bool MayHaveBeenDelivered = false)
{
    public static SendResult Sent(string providerId, string detail) => new(SendOutcome.Sent, providerId, detail);
    public static SendResult Retry(string detail, TimeSpan? retryAfter = null, bool mayHaveBeenDelivered = false) =>
        new(SendOutcome.Retry, null, detail, retryAfter, mayHaveBeenDelivered);
    public static SendResult GiveUp(string detail) => new(SendOutcome.GiveUp, null, detail);

    /// <summary>
    /// A Pushover emergency page's receipt: the phone keeps ringing until it is acknowledged there or cancelled with
    /// <see cref="IReceiptCanceller"/>. Null for every other page.
    /// </summary>
    public string? Receipt { get; init; }
}

/// <summary>
/// A notifier whose pages can keep alerting after they were accepted (Pushover emergency priority rings again every
/// retry interval until acknowledged). When the page's countdown is acked or resolved, the outbox stops it.
/// </summary>
public interface IReceiptCanceller
{
    /// <summary>One attempt to stop a receipt from alerting again; classified like a send (Sent = cancelled).</summary>
    Task<SendResult> CancelAsync(string receipt, CancellationToken cancellationToken);
}
