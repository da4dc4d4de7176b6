namespace Larsbot.Notify;

/// <summary>
/// Removes known secret strings from text that is about to be stored or logged. Defence in depth: notifiers
/// already avoid putting secrets into Detail, but a provider may echo a token back in its error body.
/// </summary>
internal sealed class SecretRedactor
{
    public const string Mask = "***";

    // Shorter strings would mangle ordinary text; real tokens and keys are 30+ characters.
    private const int MinimumSecretLength = 4;

    private readonly string[] _secrets;

    public SecretRedactor(IEnumerable<string?> secrets)
    {
        // Longest first, so "sid:token" goes before "token" leaves a stray "sid:".
        _secrets = secrets
            .Where(s => s is not null && s.Length >= MinimumSecretLength)
            .Select(s => s!)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(s => s.Length)
            .ToArray();
    }

    public string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.OrdinalIgnoreCase);
        }
        return text;
    }

    public static string Redact(string text, params IEnumerable<string?> secrets) => new SecretRedactor(secrets).Redact(text);
}
