using Larsbot.Irc;

namespace Larsbot.Tests.Irc;

public class ChannelTopicTests
{
    [Fact]
    public void Wants_its_topic_until_the_channel_has_it_and_puts_it_back_after_someone_else()
    {
        var topic = new ChannelTopic();
        Assert.Null(topic.Current);
        Assert.Null(topic.Pending());

        Assert.True(topic.Desire("On call: alice"));
        Assert.False(topic.Desire("On call: alice"));
        topic.Joining();
        Assert.Equal("", topic.Current);
        Assert.Equal("On call: alice", topic.Pending());

        Assert.False(topic.Changed("On call: alice", byUs: true));
        Assert.Null(topic.Pending());
        Assert.True(topic.Changed("hijacked", byUs: false));
        Assert.Equal("On call: alice", topic.Pending());
    }

    [Fact]
    public void A_refusal_stops_attempts_and_complains_once_until_allowed_or_set_by_us()
    {
        var topic = new ChannelTopic();
        topic.Desire("On call: alice");
        topic.Seen("old");

        Assert.True(topic.Refused());
        Assert.Null(topic.Pending());
        Assert.False(topic.Refused());

        topic.Allowed();
        Assert.Equal("On call: alice", topic.Pending());
        Assert.False(topic.Refused()); // still complained about once
        topic.Allowed();
        topic.Changed("On call: alice", byUs: true);
        Assert.True(topic.Refused()); // our own change succeeded in between: a new refusal is news
    }
}
