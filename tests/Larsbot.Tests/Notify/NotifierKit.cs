using System.Net;
using Larsbot.Notify;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Larsbot.Tests.Notify;

/// <summary>
/// The kit every HTTP notifier passes: the status-code → outcome table, timeouts and network errors, no secret in
/// Detail (even when the provider echoes one back), and the caller's cancellation propagating. A notifier's test
/// class derives from this and supplies the provider-specific parts; xunit runs every test here once per notifier.
/// </summary>
public abstract class NotifierKit : IAsyncLifetime
{
    protected static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(15);
    // HTTP-date Retry-After values, relative to the fake clock (TheoryData is built before the clock exists).
    private const string RetryAfterDatePlus120 = "date:+120";
    private const string RetryAfterDateInThePast = "date:-60";

    protected FakeProviders Fake { get; private set; } = null!;

    /// <summary>Drives the notifiers' attempt timeout, so a timeout takes no real time.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 4, 1, 12, 0, 0, TimeSpan.Zero));

    protected HttpClient Http { get; } = new();

    public async Task InitializeAsync() => Fake = await FakeProviders.StartAsync();

    public async Task DisposeAsync()
    {
        await Teardown.AllAsync(Http, Fake);
    }

    protected abstract string ExpectedChannel { get; }

    protected abstract PageMessage Page { get; }

    /// <summary>Strings that must never appear in any Detail: tokens, keys, Basic credentials.</summary>
    protected abstract IReadOnlyList<string> Secrets { get; }

    protected abstract INotifier CreateNotifier(string baseUrl);

    protected abstract void Script(params FakeAnswer[] answers);

    /// <summary>An error answer in the provider's own error shape, carrying <paramref name="text"/>.</summary>
    protected abstract FakeAnswer ErrorAnswer(int status, string text);

    protected abstract FakeAnswer SuccessAnswer(string providerId);

    protected abstract string NewProviderId();

    protected abstract int SuccessStatus { get; }

    protected abstract Task<RecordedRequest> WaitForRequestAsync(int n);

    protected abstract int AcceptedRequestCount { get; }

    public static TheoryData<int, string?, SendOutcome, bool, int?> StatusTable => new()
    {
        // status, Retry-After header, outcome, MayHaveBeenDelivered, expected RetryAfter seconds
        { 400, null, SendOutcome.GiveUp, false, null },
        { 401, null, SendOutcome.GiveUp, false, null },
        { 403, null, SendOutcome.GiveUp, false, null },
        { 404, null, SendOutcome.GiveUp, false, null },
        { 429, null, SendOutcome.Retry, false, null },
        { 429, "7", SendOutcome.Retry, false, 7 },
        { 429, RetryAfterDatePlus120, SendOutcome.Retry, false, 120 },
        { 429, RetryAfterDateInThePast, SendOutcome.Retry, false, 0 },
        { 500, null, SendOutcome.Retry, true, null },
        { 502, null, SendOutcome.Retry, true, null },
        { 503, "30", SendOutcome.Retry, true, 30 },
    };

    [Fact]
    public void Serves_its_channel() => Assert.Equal(ExpectedChannel, CreateNotifier(Fake.BaseUrl).Channel);

    [Fact]
    public async Task Accepted_page_is_Sent_with_the_provider_id()
    {
        var id = NewProviderId();
        Script(SuccessAnswer(id));

        var result = await CreateNotifier(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        AssertClean(result);
        Assert.Equal(SendOutcome.Sent, result.Outcome);
        Assert.Equal(id, result.ProviderId);
        Assert.False(result.MayHaveBeenDelivered);
        Assert.Equal(1, AcceptedRequestCount);
    }

    [Fact]
    public async Task Unscripted_page_passes_the_stand_ins_checks()
    {
        var result = await CreateNotifier(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        AssertClean(result);
        Assert.True(result.Outcome == SendOutcome.Sent, $"{result.Detail}; rejections: {string.Join(" | ", Fake.Rejections)}");
        Assert.False(string.IsNullOrEmpty(result.ProviderId));
    }

    [Theory]
    [MemberData(nameof(StatusTable))]
    public async Task Status_maps_to_outcome(int status, string? retryAfter, SendOutcome outcome, bool mayHaveBeenDelivered, int? retryAfterSeconds)
    {
        var header = retryAfter switch
        {
            RetryAfterDatePlus120 => Time.GetUtcNow().AddSeconds(120).ToString("R"),
            RetryAfterDateInThePast => Time.GetUtcNow().AddSeconds(-60).ToString("R"),
            _ => retryAfter,
        };
        Script(ErrorAnswer(status, "something is wrong") with { RetryAfter = header });

        var result = await CreateNotifier(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        AssertClean(result);
        Assert.Equal(outcome, result.Outcome);
        Assert.Null(result.ProviderId);
        Assert.Equal(mayHaveBeenDelivered, result.MayHaveBeenDelivered);
        Assert.Equal(retryAfterSeconds is { } s ? TimeSpan.FromSeconds(s) : null, result.RetryAfter);
        Assert.StartsWith($"HTTP {status}", result.Detail);
        Assert.Contains("something is wrong", result.Detail);
    }

    [Fact]
    public async Task Success_whose_answer_is_cut_off_is_still_Sent_so_it_is_not_paged_twice()
    {
        await using var server = await CutOffServer.StartAsync(SuccessStatus);

        var result = await CreateNotifier(server.BaseUrl).SendAsync(Page, CancellationToken.None);

        AssertClean(result);
        Assert.True(result.Outcome == SendOutcome.Sent, result.Detail);
        Assert.Equal("unknown", result.ProviderId);
        Assert.Contains("unreadable", result.Detail);
    }

    [Fact]
    public async Task Non_json_error_body_is_kept_short_on_one_line()
    {
        Script(FakeAnswer.WithStatus(502, "<html>\n<body>Bad gateway</body>\n</html>\n" + new string('x', 5000)));

        var result = await CreateNotifier(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        AssertClean(result);
        Assert.Equal(SendOutcome.Retry, result.Outcome);
        Assert.Contains("Bad gateway", result.Detail);
        Assert.True(result.Detail.Length < 400, result.Detail);
    }

    [Fact]
    public async Task Timeout_is_a_Retry_that_may_have_been_delivered()
    {
        Script(FakeAnswer.Hanging());
        var send = CreateNotifier(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);
        await WaitForRequestAsync(1);

        Time.Advance(AttemptTimeout - TimeSpan.FromSeconds(1));
        Assert.False(send.IsCompleted, "gave up before the timeout");
        Time.Advance(TimeSpan.FromSeconds(2));
        var result = await send.WaitAsync(TimeSpan.FromSeconds(10));

        AssertClean(result);
        Assert.Equal(SendOutcome.Retry, result.Outcome);
        Assert.True(result.MayHaveBeenDelivered);
        Assert.Contains("timeout", result.Detail);
    }

    [Fact]
    public async Task Refused_connection_is_a_Retry_that_was_not_delivered()
    {
        var result = await CreateNotifier(ClosedPortUrl()).SendAsync(Page, CancellationToken.None);

        AssertClean(result);
        Assert.Equal(SendOutcome.Retry, result.Outcome);
        Assert.False(result.MayHaveBeenDelivered, "nothing reached the provider, so a retry cannot duplicate");
        Assert.Contains("network error", result.Detail);
    }

    [Fact]
    public async Task Secrets_echoed_by_the_provider_are_removed_from_Detail()
    {
        Script(ErrorAnswer(400, "echo: " + string.Join(" ", Secrets)));

        var result = await CreateNotifier(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        AssertClean(result);
        Assert.Equal(SendOutcome.GiveUp, result.Outcome);
        Assert.Contains("***", result.Detail);
    }

    [Fact]
    public async Task Already_cancelled_caller_gets_OperationCanceledException_and_nothing_is_sent()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CreateNotifier(Fake.BaseUrl).SendAsync(Page, cts.Token));
        Assert.Equal(0, AcceptedRequestCount);
    }

    [Fact]
    public async Task Caller_cancelling_mid_request_gets_OperationCanceledException_not_a_Retry()
    {
        Script(FakeAnswer.Hanging());
        using var cts = new CancellationTokenSource();
        var send = CreateNotifier(Fake.BaseUrl).SendAsync(Page, cts.Token);
        await WaitForRequestAsync(1);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>Every result: a one-line, non-empty Detail with no secret in it.</summary>
    protected void AssertClean(SendResult result)
    {
        Assert.False(string.IsNullOrWhiteSpace(result.Detail));
        Assert.DoesNotContain('\n', result.Detail);
        Assert.DoesNotContain('\r', result.Detail);
        foreach (var secret in Secrets)
        {
            Assert.True(
                !result.Detail.Contains(secret, StringComparison.OrdinalIgnoreCase),
                $"Detail leaks a secret: {result.Detail}");
        }
    }

    private static string ClosedPortUrl() => $"http://127.0.0.1:{Ports.Free()}";
}
