using System.Security.Cryptography;
using System.Text;
using Larsbot.Intake;

namespace Larsbot.Tests.Intake;

/// <summary>
/// The fingerprint of an Alertmanager alert sent without one is part of its stored key ("am:" and it), so it must stay
/// what earlier versions derived, or a resend of an open alert after an upgrade would page as a new one. Checked
/// against the original formula (sorted "name=value" lines joined, SHA-256, the first 16 hex digits).
/// </summary>
public sealed class AlertmanagerFingerprintTests
{
    private static string AsBefore(Dictionary<string, string> labels) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
            labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value)))))[..16];

    public static TheoryData<string> LabelSets() =>
    [
        "",
        "alertname=LinkDown",
        "alertname=LinkDown|instance=host7|n=1-2|severity=warning",
        "zeta=1|Alpha=2|alpha=3|_=4|=empty name",
        "disk=97 %|host=dü1.example|emoji=🔥|cjk=磁盘已满",
        // Longer than the stack buffer: the pooled buffer path.
        string.Join('|', Enumerable.Range(0, 60).Select(i => $"label{i:D2}={new string((char)('a' + i % 26), 40)}")),
    ];

    [Theory]
    [MemberData(nameof(LabelSets))]
    public void A_derived_fingerprint_is_what_earlier_versions_derived(string set)
    {
        var labels = set.Length == 0 ? [] : set.Split('|').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        Assert.Equal(AsBefore(labels), AlertmanagerIntake.Fingerprint(labels));
    }

    [Fact]
    public void A_known_label_set_keeps_its_fingerprint()
    {
        // Pinned, not only compared: the formula above and the code could drift together.
        var labels = new Dictionary<string, string> { ["alertname"] = "LinkDown", ["instance"] = "host7" };
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("alertname=LinkDown\ninstance=host7"u8))[..16], AlertmanagerIntake.Fingerprint(labels));
        Assert.Equal(16, AlertmanagerIntake.Fingerprint(labels).Length);
    }
}
