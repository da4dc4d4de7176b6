using Larsbot.Notify;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Larsbot.Tests.Notify;

public sealed class NotifyServiceCollectionExtensionsTests
{
    [Fact]
    public void Without_credentials_both_channels_fall_back_to_the_console()
    {
        using var provider = Build([]);

        var notifiers = provider.GetServices<INotifier>().ToList();

        Assert.All(notifiers, n => Assert.IsType<ConsoleNotifier>(n));
        Assert.Equal(["call", "push", "sms"], notifiers.Select(n => n.Channel).Order());
    }

    [Fact]
    public async Task With_credentials_the_real_notifiers_are_bound_and_reach_the_provider()
    {
        await using var fake = await FakeProviders.StartAsync();
        using var provider = Build(new()
        {
            ["Twilio:AccountSid"] = fake.AccountSid,
            ["Twilio:AuthToken"] = fake.AuthToken,
            ["Twilio:From"] = FakeProviders.DefaultTwilioFrom,
            ["Twilio:BaseUrl"] = fake.BaseUrl,
            ["Twilio:Timeout"] = "00:00:05",
            ["Pushover:AppToken"] = fake.PushoverAppToken,
            ["Pushover:BaseUrl"] = fake.BaseUrl,
            ["Pushover:Priority"] = "0",
        });

        var notifiers = provider.GetServices<INotifier>().ToDictionary(n => n.Channel);
        var sms = await notifiers["sms"].SendAsync(new("lars", "+61400000001", "t", "sms body"), CancellationToken.None);
        var push = await notifiers["push"].SendAsync(new("lars", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG", "t", "push body"), CancellationToken.None);

        Assert.IsType<TwilioSmsNotifier>(notifiers["sms"]);
        Assert.IsType<PushoverNotifier>(notifiers["push"]);
        Assert.Equal(TimeSpan.FromSeconds(5), provider.GetRequiredService<IOptions<TwilioOptions>>().Value.Timeout);
        Assert.Equal(SendOutcome.Sent, sms.Outcome);
        Assert.Equal(SendOutcome.Sent, push.Outcome);
        Assert.Equal("sms body", Assert.Single(fake.TwilioRequests)["Body"]);
        Assert.Equal("0", Assert.Single(fake.PushoverRequests)["priority"]);
    }

    [Fact]
    public void Options_state_their_defaults()
    {
        var twilio = new TwilioOptions();
        var pushover = new PushoverOptions();

        Assert.Equal("https://api.twilio.com", twilio.BaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(15), twilio.Timeout);
        Assert.Equal("https://api.pushover.net", pushover.BaseUrl);
        Assert.Equal(1, pushover.Priority);
        Assert.Equal(TimeSpan.FromSeconds(15), pushover.Timeout);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddNotifiers(configuration).BuildServiceProvider();
    }
}
