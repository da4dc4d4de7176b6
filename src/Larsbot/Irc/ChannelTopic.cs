namespace Larsbot.Irc;

/// <summary>
/// The topic the channel should carry against the one it has, and whether we may set it. Only state and decisions:
/// the client sends the TOPIC line. Read from any thread (SetTopic, CurrentTopic), so everything is under one lock.
/// </summary>
internal sealed class ChannelTopic
{
    private readonly Lock _lock = new();
    private string? _desired;
    private string? _current;
    private bool _refused;
    private bool _complaintSaid;

    /// <summary>The topic as last seen from the server; null until joined.</summary>
    public string? Current
    {
        get { lock (_lock) return _current; }
    }

    /// <summary>Records the topic we want; false when it is the one already wanted (nothing to do).</summary>
    public bool Desire(string topic)
    {
        lock (_lock)
        {
            if (topic == _desired)
                return false;
            _desired = topic;
            return true;
        }
    }

    /// <summary>The topic to send now, if we want one, it differs from the channel's and we have not been refused.</summary>
    public string? Pending()
    {
        lock (_lock)
            return _desired is null || _refused || _desired == _current ? null : _desired;
    }

    /// <summary>Our JOIN: the channel has no topic until the server says otherwise (332).</summary>
    public void Joining()
    {
        lock (_lock)
            _current = "";
    }

    /// <summary>The server told us the topic (332 on join).</summary>
    public void Seen(string topic)
    {
        lock (_lock)
            _current = topic;
    }

    /// <summary>
    /// Someone changed the topic. Our own change means we may set it and complain again later; returns true when it
    /// was someone else (so ours should be put back).
    /// </summary>
    public bool Changed(string topic, bool byUs)
    {
        lock (_lock)
        {
            _current = topic;
            if (byUs)
                _complaintSaid = false;
            return !byUs;
        }
    }

    /// <summary>A fresh join or +o: try setting the topic again.</summary>
    public void Allowed()
    {
        lock (_lock)
            _refused = false;
    }

    /// <summary>The server refused (482). Returns true the first time, so the refusal is said once, not per attempt.</summary>
    public bool Refused()
    {
        lock (_lock)
        {
            _refused = true;
            var complain = !_complaintSaid;
            _complaintSaid = true;
            return complain;
        }
    }
}
