using Larsbot.Notify;

namespace Larsbot.Tests.Notify;

public sealed class PushoverNotifierTests : NotifierKit
{
    private const string UserKey = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";

    protected override string ExpectedChannel => "push";

    protected override PageMessage Page { get; } = new("lars", UserKey, "gateway2", "rblcheck: listed");

    protected override IReadOnlyList<string> Secrets { get; } = [FakeProviders.DefaultPushoverAppToken, UserKey];

    protected override INotifier CreateNotifier(string baseUrl) => Create(baseUrl);

    private PushoverNotifier Create(string baseUrl, int priority = 1) =>
        new(Http, new PushoverOptions
        {
            AppToken = FakeProviders.DefaultPushoverAppToken,
            BaseUrl = baseUrl,
            Priority = priority,
            Timeout = AttemptTimeout,
        }, Time);

    protected override void Script(params FakeAnswer[] answers) => Fake.ScriptPushover(answers);

    protected override FakeAnswer ErrorAnswer(int status, string text) => FakeAnswer.PushoverError(status, text);

    protected override FakeAnswer SuccessAnswer(string providerId) => FakeAnswer.PushoverAccepted(providerId);

    protected override int SuccessStatus => 200;

    protected override string NewProviderId() => Guid.NewGuid().ToString();

    protected override Task<RecordedRequest> WaitForRequestAsync(int n) => Fake.WaitForPushoverRequestAsync(n);

    protected override int AcceptedRequestCount => Fake.PushoverRequests.Count;

    [Fact]
    public async Task Posts_token_user_title_message_and_priority()
    {
        var result = await Create(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
        var request = Assert.Single(Fake.PushoverRequests);
        Assert.Equal("/1/messages.json", request.Path);
        Assert.StartsWith("application/x-www-form-urlencoded", request.ContentType);
        Assert.Equal(FakeProviders.DefaultPushoverAppToken, request["token"]);
        Assert.Equal(UserKey, request["user"]);
        Assert.Equal("gateway2", request["title"]);
        Assert.Equal("rblcheck: listed", request["message"]);
        Assert.Equal("1", request["priority"]);
        Assert.False(request.Form.ContainsKey("retry"));
    }

    [Fact]
    public async Task Emergency_priority_carries_retry_and_expire()
    {
        var result = await Create(Fake.BaseUrl, priority: 2).SendAsync(Page with { Title = "" }, CancellationToken.None);

        Assert.True(result.Outcome == SendOutcome.Sent, result.Detail + " | " + string.Join(" | ", Fake.Rejections));
        var request = Assert.Single(Fake.PushoverRequests);
        Assert.Equal("2", request["priority"]);
        Assert.Equal("60", request["retry"]);
        Assert.Equal("3600", request["expire"]);
        Assert.False(request.Form.ContainsKey("title"));
    }

    [Fact]
    public async Task Long_message_is_cut_to_Pushovers_limit()
    {
        var result = await Create(Fake.BaseUrl).SendAsync(Page with { Body = new string('m', 5000) }, CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
        Assert.Equal(PushoverNotifier.MaxMessageLength, Assert.Single(Fake.PushoverRequests)["message"].Length);
    }

    [Fact]
    public async Task Unknown_user_key_gives_up_with_Pushovers_errors_and_without_the_key()
    {
        const string badKey = "not-a-key-but-long-enough-to-redact";

        var result = await Create(Fake.BaseUrl).SendAsync(Page with { Destination = badKey }, CancellationToken.None);

        AssertClean(result);
        Assert.DoesNotContain(badKey, result.Detail);
        Assert.Equal(SendOutcome.GiveUp, result.Outcome);
        Assert.StartsWith("HTTP 400 BadRequest: user identifier is not a valid user, group, or subscribed user key (request ", result.Detail);
    }

    [Fact]
    public async Task Success_status_other_than_1_is_not_taken_for_Sent()
    {
        Script(FakeAnswer.WithStatus(200, """{"status":0,"errors":["odd"]}"""));

        var result = await Create(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        Assert.Equal(SendOutcome.GiveUp, result.Outcome);
        Assert.Equal("HTTP 200 OK: odd", result.Detail);
    }

    [Fact]
    public void Refuses_options_without_an_app_token()
    {
        Assert.False(new PushoverOptions().IsConfigured);
        Assert.Throws<ArgumentException>(() => new PushoverNotifier(Http, new PushoverOptions()));
    }
}
