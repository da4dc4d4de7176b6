using Larsbot.Notify;

namespace Larsbot.Tests.Notify;

public sealed class SecretRedactorTests
{
    [Fact]
    public void Masks_every_occurrence_longest_first_and_ignoring_case()
    {
        var redacted = SecretRedactor.Redact("auth ACsid:TOKEN1234 then token1234 and none", "token1234", "ACsid:token1234");

        Assert.Equal("auth *** then *** and none", redacted);
    }

    [Fact]
    public void Ignores_empty_and_very_short_secrets()
    {
        Assert.Equal("a b c", SecretRedactor.Redact("a b c", null, "", "b"));
    }
}
