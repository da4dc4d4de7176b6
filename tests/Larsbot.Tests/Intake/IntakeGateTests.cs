using System.Net;
using Larsbot.Intake;
using Larsbot.Roster;

namespace Larsbot.Tests.Intake;

public sealed class IntakeGateTests
{
    private const string Shared = "shared-token-0123456789";
    private const string Gateways = "gateway-token-0123456789";
    private static readonly IPAddress Outside = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Inside = IPAddress.Parse("10.1.2.3");

    private static IntakeGate Gate(Action<IntakeOptions>? configure = null)
    {
        var o = new IntakeOptions();
        configure?.Invoke(o);
        return new IntakeGate(Microsoft.Extensions.Options.Options.Create(o));
    }

    private static void WithTokens(IntakeOptions o)
    {
        o.Tokens.Add(new IntakeToken { Name = "shared", Token = Shared });
        o.Tokens.Add(new IntakeToken { Name = "gateways", Token = Gateways, Hosts = ["gateway*", "mx1"] });
    }

    [Fact]
    public void Default_is_loopback_only_without_a_token()
    {
        var gate = Gate();
        Assert.Null(gate.CheckNetwork(IPAddress.Loopback));
        Assert.Null(gate.CheckNetwork(IPAddress.IPv6Loopback));
        Assert.True(gate.Authenticate(IPAddress.Loopback, null).Ok);
        Assert.Contains("only loopback", gate.CheckNetwork(Outside));
        Assert.Contains("only loopback", gate.CheckNetwork(Outside.MapToIPv6()));
    }

    [Fact]
    public void Tokens_are_required_outside_loopback_and_checked()
    {
        var gate = Gate(WithTokens);
        Assert.Null(gate.CheckNetwork(Outside));
        var none = gate.Authenticate(Outside, null);
        Assert.Equal((401, "missing token: send 'Authorization: Bearer <token>' or a 'token' field"), (none.Status, none.Reason));
        var bad = gate.Authenticate(Outside, Shared + "x");
        Assert.Equal((401, "bad token"), (bad.Status, bad.Reason));
        Assert.Equal(401, gate.Authenticate(Outside, Shared[..^1]).Status);
        var ok = gate.Authenticate(Outside, Shared);
        Assert.True(ok.Ok);
        Assert.True(ok.Caller!.MaySendFor("anything"));
        Assert.DoesNotContain(Shared, ok.Caller.Via);
        // A wrong token is refused on loopback too: the exemption is for no token, not for a bad one.
        Assert.Equal(401, gate.Authenticate(IPAddress.Loopback, "nope-nope-nope-nope").Status);
    }

    [Fact]
    public void A_token_bound_to_hosts_speaks_only_for_them()
    {
        var caller = Gate(WithTokens).Authenticate(Outside, Gateways).Caller!;
        Assert.Null(IntakeGate.CheckHost(caller, "gateway2"));
        Assert.Null(IntakeGate.CheckHost(caller, "MX1"));
        Assert.Equal("this token may not send alerts for host 'db1'", IntakeGate.CheckHost(caller, "db1"));
    }

    [Fact]
    public void Allowed_networks_filter_addresses_and_trust_them_when_no_tokens_exist()
    {
        var gate = Gate(o => o.AllowedNetworks.Add("10.0.0.0/8"));
        Assert.Null(gate.CheckNetwork(Inside));
        Assert.True(gate.Authenticate(Inside, null).Ok);
        Assert.Equal("address 192.0.2.7 is not in Intake:AllowedNetworks", gate.CheckNetwork(Outside));

        var both = Gate(o => { o.AllowedNetworks.Add("10.0.0.0/8"); WithTokens(o); });
        Assert.Equal(401, both.Authenticate(Inside, null).Status);
        Assert.True(both.Authenticate(Inside, Shared).Ok);
        Assert.NotNull(both.CheckNetwork(Outside));
    }

    [Fact]
    public void Loopback_is_an_ordinary_address_when_the_exemption_is_off()
    {
        var gate = Gate(o => { o.AllowLoopbackWithoutToken = false; o.AllowedNetworks.Add("10.0.0.0/8"); });
        Assert.NotNull(gate.CheckNetwork(IPAddress.Loopback));
        var tokens = Gate(o => { o.AllowLoopbackWithoutToken = false; WithTokens(o); });
        Assert.Equal(401, tokens.Authenticate(IPAddress.Loopback, null).Status);
    }

    [Fact]
    public void Options_validation_names_keys_but_never_echoes_a_token()
    {
        var o = new IntakeOptions();
        o.Tokens.Add(new IntakeToken { Token = "short-secret" });
        o.AllowedNetworks.Add("10.0.0.0/33");
        var problems = o.Validate().ToList();
        Assert.Contains(problems, p => p.StartsWith("Intake:Tokens:0:Token is shorter than 16"));
        Assert.Contains(problems, p => p.Contains("'10.0.0.0/33' is not a CIDR range"));
        Assert.DoesNotContain(problems, p => p.Contains("short-secret"));
        Assert.DoesNotContain("short-secret", o.Tokens[0].ToString());
    }

    [Theory]
    [InlineData("*!brong@*.example.com", "brong_!brong@host1.example.com", true)]
    [InlineData("*!brong@*.example.com", "brong!brong@example.com.evil.net", false)]
    [InlineData("gateway?", "gateway2", true)]
    [InlineData("gateway?", "gateway22", false)]
    [InlineData("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    public void Wildcards_match_like_irc_masks(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildcard.IsMatch(pattern, text));
}
