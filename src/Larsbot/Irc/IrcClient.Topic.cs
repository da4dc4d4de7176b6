using Microsoft.Extensions.Logging;

namespace Larsbot.Irc;

/// <summary>Keeping the channel topic: set it when wanted, put it back when changed, stop (and say so) when refused.</summary>
internal sealed partial class IrcClient
{
    public void SetTopic(string topic)
    {
        try
        {
            var clean = IrcText.Truncate(IrcText.Sanitize(topic), Math.Min(PayloadBudget("TOPIC"), _serverTopicLength ?? int.MaxValue));
            if (_topic.Desire(clean))
                EnsureTopic(_session);
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "Could not set the IRC topic");
        }
    }

    private void EnsureTopic(IrcSession? session)
    {
        if (session is null || !_joined)
            return;
        if (_topic.Pending() is { } desired)
            _sender.Control(session, new IrcMessage("TOPIC", _options.Channel, desired).ToString());
    }

    private void HandleTopic(IrcSession session, IrcMessage m)
    {
        if (!IsOurChannel(m.Param(0)))
            return;
        if (!_topic.Changed(m.Trailing ?? "", byUs: IsMe(m.Nick)))
            return;
        _log.LogInformation("{Nick} changed the topic of {Channel}", m.Nick, _options.Channel);
        EnsureTopic(session);
    }

    private void HandleTopicRefused()
    {
        var complain = _topic.Refused();
        _log.LogWarning("Not allowed to set the topic of {Channel}", _options.Channel);
        if (complain)
            Say(TopicRefusedText);
    }

    private void HandleMode(IrcSession session, IrcMessage m)
    {
        if (!IsOurChannel(m.Param(0)) || m.Params.Count < 2)
            return;
        var modes = m.Params[1];
        var arg = 2;
        var adding = true;
        foreach (var c in modes)
        {
            switch (c)
            {
                case '+': adding = true; continue;
                case '-': adding = false; continue;
            }
            // Modes with an argument (rfc2812 plus the common prefix modes); 'l' only takes one when set.
            var takesArg = "ovhqabeIk".Contains(c) || (c == 'l' && adding);
            var target = takesArg ? m.Param(arg++) : null;
            if (c == 'o' && adding && IsMe(target))
            {
                _topic.Allowed();
                EnsureTopic(session);
            }
        }
    }
}
