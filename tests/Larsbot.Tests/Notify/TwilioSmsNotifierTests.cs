using System.Text;
using Larsbot.Notify;

namespace Larsbot.Tests.Notify;

public sealed class TwilioSmsNotifierTests : NotifierKit
{
    private static readonly string BasicCredentials =
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{FakeProviders.DefaultAccountSid}:{FakeProviders.DefaultAuthToken}"));

    protected override string ExpectedChannel => "sms";

    protected override PageMessage Page { get; } = new("lars", "+61400000001", "gateway2", "gateway2: rblcheck: listed");

    protected override IReadOnlyList<string> Secrets { get; } =
    [
        FakeProviders.DefaultAuthToken,
        $"{FakeProviders.DefaultAccountSid}:{FakeProviders.DefaultAuthToken}",
        BasicCredentials,
    ];

    protected override INotifier CreateNotifier(string baseUrl) => Create(baseUrl);

    private TwilioSmsNotifier Create(string baseUrl, string authToken = FakeProviders.DefaultAuthToken) =>
        new(Http, new TwilioOptions
        {
            AccountSid = FakeProviders.DefaultAccountSid,
            AuthToken = authToken,
            From = FakeProviders.DefaultTwilioFrom,
            BaseUrl = baseUrl,
            Timeout = AttemptTimeout,
        }, Time);

    protected override void Script(params FakeAnswer[] answers) => Fake.ScriptTwilio(answers);

    protected override FakeAnswer ErrorAnswer(int status, string text) => FakeAnswer.TwilioError(status, 20000 + status, text);

    protected override FakeAnswer SuccessAnswer(string providerId) => FakeAnswer.TwilioCreated(providerId);

    protected override int SuccessStatus => 201;

    protected override string NewProviderId() => "SM" + Guid.NewGuid().ToString("N");

    protected override Task<RecordedRequest> WaitForRequestAsync(int n) => Fake.WaitForTwilioRequestAsync(n);

    protected override int AcceptedRequestCount => Fake.TwilioRequests.Count;

    [Fact]
    public async Task Posts_To_From_and_the_composed_Body_to_the_accounts_Messages_resource()
    {
        var result = await Create(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
        Assert.StartsWith("SM", result.ProviderId);
        var request = Assert.Single(Fake.TwilioRequests);
        Assert.Equal("POST", request.Method);
        Assert.Equal($"/2010-04-01/Accounts/{FakeProviders.DefaultAccountSid}/Messages.json", request.Path);
        Assert.Equal(FakeProviders.DefaultAccountSid, request.BasicUser);
        Assert.StartsWith("application/x-www-form-urlencoded", request.ContentType);
        Assert.Equal("+61400000001", request["To"]);
        Assert.Equal(FakeProviders.DefaultTwilioFrom, request["From"]);
        Assert.Equal("gateway2: rblcheck: listed", request["Body"]);
        Assert.Equal(3, request.Form.Count);
    }

    [Fact]
    public async Task Long_body_is_cut_to_Twilios_1600_characters_without_splitting_a_surrogate_pair()
    {
        var body = new string('a', 1598) + "👍👍👍";

        var result = await Create(Fake.BaseUrl).SendAsync(Page with { Body = body }, CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
        var sent = Assert.Single(Fake.TwilioRequests)["Body"];
        Assert.True(sent.Length <= TwilioSmsNotifier.MaxBodyLength);
        Assert.EndsWith("a…", sent);
    }

    [Fact]
    public async Task Invalid_number_gives_up_with_Twilios_code_and_message()
    {
        Script(FakeAnswer.TwilioError(400, 21211, "The 'To' number +6140000000 is not a valid phone number."));

        var result = await Create(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        AssertClean(result);
        Assert.Equal(SendOutcome.GiveUp, result.Outcome);
        Assert.Equal("HTTP 400 BadRequest: Twilio 21211: The 'To' number +6140000000 is not a valid phone number.", result.Detail);
    }

    [Fact]
    public async Task Number_not_in_E164_is_refused_by_the_stand_in_and_given_up()
    {
        var result = await Create(Fake.BaseUrl).SendAsync(Page with { Destination = "0400 000 001" }, CancellationToken.None);

        AssertClean(result);
        Assert.Equal(SendOutcome.GiveUp, result.Outcome);
        Assert.Contains("21211", result.Detail);
        Assert.Empty(Fake.TwilioRequests);
    }

    [Fact]
    public async Task Wrong_auth_token_gives_up_without_showing_either_token()
    {
        const string wrongToken = "0badc0de0badc0de0badc0de0badc0de";

        var result = await Create(Fake.BaseUrl, wrongToken).SendAsync(Page, CancellationToken.None);

        AssertClean(result);
        Assert.DoesNotContain(wrongToken, result.Detail);
        Assert.Equal(SendOutcome.GiveUp, result.Outcome);
        Assert.Equal("HTTP 401 Unauthorized: Twilio 20003: Authenticate", result.Detail);
    }

    [Fact]
    public async Task Twilios_rate_limit_is_retried_after_its_Retry_After_and_was_never_processed()
    {
        Script(FakeAnswer.TwilioError(429, 20429, "Too Many Requests") with { RetryAfter = "7" });

        var result = await Create(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        Assert.Equal(SendResult.Retry("HTTP 429 TooManyRequests: Twilio 20429: Too Many Requests", TimeSpan.FromSeconds(7)), result);
    }

    [Fact]
    public async Task Success_without_a_sid_is_still_Sent_so_it_is_not_paged_twice()
    {
        Script(FakeAnswer.WithStatus(201, "{}"));

        var result = await Create(Fake.BaseUrl).SendAsync(Page, CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
        Assert.Equal("unknown", result.ProviderId);
    }

    [Fact]
    public void Refuses_options_without_credentials()
    {
        Assert.False(new TwilioOptions().IsConfigured);
        Assert.Throws<ArgumentException>(() => new TwilioSmsNotifier(Http, new TwilioOptions { AccountSid = "AC1", From = "+1" }));
    }
}
