using Larsbot.Notify;

namespace Larsbot.Tests.Notify;

public sealed class ConsoleNotifierTests
{
    [Fact]
    public async Task Prints_one_line_and_reports_Sent_with_a_counting_id()
    {
        var output = new StringWriter();
        var notifier = new ConsoleNotifier("sms", output);

        var first = await notifier.SendAsync(new("lars", "+61400000001", "gateway2", "gateway2: rblcheck:\nlisted"), CancellationToken.None);
        var second = await notifier.SendAsync(new("lars", "+61400000001", "t", "again"), CancellationToken.None);

        Assert.Equal("sms", notifier.Channel);
        Assert.Equal(SendOutcome.Sent, first.Outcome);
        Assert.Equal("console-1", first.ProviderId);
        Assert.Equal("console-2", second.ProviderId);
        Assert.Equal(
            "[console sms] to +61400000001: gateway2: rblcheck: listed (no Twilio credentials configured)" + Environment.NewLine +
            "[console sms] to +61400000001: again (no Twilio credentials configured)" + Environment.NewLine,
            output.ToString());
    }

    [Fact]
    public async Task Push_shows_the_title_and_only_the_start_of_the_user_key()
    {
        var output = new StringWriter();

        await new ConsoleNotifier("push", output).SendAsync(new("lars", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG", "gateway2", "rblcheck: listed"), CancellationToken.None);

        Assert.Equal("[console push] to uQiR…: gateway2: rblcheck: listed (no Pushover credentials configured)" + Environment.NewLine, output.ToString());
    }

    [Fact]
    public async Task Cancelled_caller_gets_OperationCanceledException()
    {
        var output = new StringWriter();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new ConsoleNotifier("sms", output).SendAsync(new("lars", "+61400000001", "t", "b"), new CancellationToken(canceled: true)));
        Assert.Empty(output.ToString());
    }
}
