namespace Larsbot.Intake;

/// <summary>Bound from "Alertmanager": how the webhook's labels become a Larsbot alert.</summary>
internal sealed class AlertmanagerOptions
{
    /// <summary>The `severity` label to a Larsbot level. Configuration adds to or overrides these keys.</summary>
    public Dictionary<string, string> SeverityLevels { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["critical"] = "urgent", ["page"] = "urgent", ["error"] = "urgent",
        ["warning"] = "irc", ["info"] = "info", ["none"] = "info",
    };

    /// <summary>The level when there is no `severity` label or it is not in the map.</summary>
    public string DefaultLevel { get; set; } = "irc";

    /// <summary>
    /// Grafana's webhook contact point can sign its body (X-Grafana-Alerting-Signature, hex HMAC-SHA256). When set,
    /// a request carrying a valid signature needs no token; a wrong signature is refused.
    /// </summary>
    public string GrafanaSecret { get; set; } = "";
}

/// <summary>Bound from "PagerDuty": the Events API v2 stand-in.</summary>
internal sealed class PagerDutyOptions
{
    /// <summary>payload.severity to a Larsbot level.</summary>
    public Dictionary<string, string> SeverityLevels { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["critical"] = "urgent", ["error"] = "urgent", ["warning"] = "irc", ["info"] = "info",
    };
}
