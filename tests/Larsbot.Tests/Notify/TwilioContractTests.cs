using System.Diagnostics;
using System.Net;
using System.Text;
using Larsbot.Notify;
using Larsbot.Tests.Support;

namespace Larsbot.Tests.Notify;

/// <summary>
/// Checks TwilioSmsNotifier's requests against Twilio's own OpenAPI description, with Prism as the checker
/// (it answers 201 with the spec's example for a conforming request, 422/415/401 otherwise). Our stand-in only
/// knows what we told it; this proves the request matches what Twilio publishes.
/// </summary>
public sealed class TwilioContractTests(PrismFixture prism) : IClassFixture<PrismFixture>
{
    private const string ValidSid = "AC0123456789abcdef0123456789abcdef";

    [Fact]
    public async Task A_page_conforms_to_Twilios_published_Messages_API()
    {
        var result = await Notifier(ValidSid).SendAsync(new("lars", "+61400000001", "gateway2", "gateway2: rblcheck: listed"), CancellationToken.None);

        Assert.True(result.Outcome == SendOutcome.Sent, $"Prism rejected the request: {result.Detail}{prism.Output()}");
        Assert.Equal("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", result.ProviderId);
    }

    [Fact]
    public async Task A_page_with_a_StatusCallback_conforms_and_polling_a_message_reads_Twilios_published_resource()
    {
        var options = new TwilioOptions
        {
            AccountSid = ValidSid, AuthToken = "0123456789abcdef0123456789abcdef", From = "+15005550006",
            BaseUrl = prism.RequireBaseUrl(), Timeout = TimeSpan.FromSeconds(10), StatusCallbackUrl = "https://larsbot.example.net/twilio/status",
        };
        var result = await new TwilioSmsNotifier(prism.Http, options).SendAsync(new("lars", "+61400000001", "t", "db1: down"), CancellationToken.None);
        Assert.True(result.Outcome == SendOutcome.Sent, $"Prism rejected the request with StatusCallback: {result.Detail}{prism.Output()}");

        // The polling fallback's GET .../Messages/{sid}.json: Prism answers with the spec's example message.
        var status = await new TwilioStatusReader(prism.Http, options).ReadAsync("sms", "SM" + new string('a', 32), CancellationToken.None);
        Assert.True(status is not null, $"Prism did not answer the message fetch as the spec says{prism.Output()}");
        Assert.False(string.IsNullOrEmpty(status.Value.Status));
    }

    [Fact]
    public async Task The_checker_checks_an_AccountSid_that_breaks_the_spec_is_refused()
    {
        var result = await Notifier("ACnot-a-real-sid").SendAsync(new("lars", "+61400000001", "t", "b"), CancellationToken.None);

        Assert.Equal(SendOutcome.GiveUp, result.Outcome);
        Assert.StartsWith("HTTP 422", result.Detail);
    }

    [Fact]
    public async Task A_voice_call_conforms_to_Twilios_published_Calls_API()
    {
        var calls = new TwilioCallNotifier(prism.Http, new TwilioOptions
        {
            AccountSid = ValidSid, AuthToken = "0123456789abcdef0123456789abcdef", From = "+15005550006",
            BaseUrl = prism.RequireBaseUrl(), Timeout = TimeSpan.FromSeconds(10), StatusCallbackUrl = "https://larsbot.example.net/twilio/status",
        });
        var result = await calls.SendAsync(new("lars", "+61400000001", "Larsbot: URGENT", "db1: down & out <now>"), CancellationToken.None);

        Assert.True(result.Outcome == SendOutcome.Sent, $"Prism rejected the request: {result.Detail}{prism.Output()}");
        Assert.StartsWith("CA", result.ProviderId);
    }

    private TwilioSmsNotifier Notifier(string accountSid) =>
        new(prism.Http, new TwilioOptions
        {
            AccountSid = accountSid,
            AuthToken = "0123456789abcdef0123456789abcdef",
            From = "+15005550006",
            BaseUrl = prism.RequireBaseUrl(),
            Timeout = TimeSpan.FromSeconds(10),
        });
}

/// <summary>
/// Starts Prism once for the contract tests and kills its process tree afterwards. Prism is found at
/// $LARSBOT_PRISM or &lt;repo&gt;/.tools/prism/node_modules/.bin/prism; the spec by walking up from the test's base
/// directory to the repository's tests/contracts/twilio_api_v2010.json (or, failing that, ../shared/contracts/).
/// A missing tool fails the tests, loudly.
/// </summary>
public sealed class PrismFixture : IAsyncLifetime
{
    private const string SpecPath = "tests/contracts/twilio_api_v2010.json";
    private const string SharedSpecPath = "shared/contracts/twilio_api_v2010.json";
    private static readonly TimeSpan StartupLimit = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _baseUrl;
    private string? _problem;

    public HttpClient Http { get; } = new();

    public string RequireBaseUrl()
    {
        if (_baseUrl is null)
        {
            Assert.Fail(_problem ?? "Prism did not start.");
        }
        return _baseUrl;
    }

    public string Output()
    {
        lock (_output) { return _output.Length == 0 ? "" : $"{Environment.NewLine}prism said:{Environment.NewLine}{_output}"; }
    }

    public async Task InitializeAsync()
    {
        var repoRoot = FindUp(d => File.Exists(Path.Combine(d, "Larsbot.sln")));
        var specRoot = FindUp(d => File.Exists(Path.Combine(d, SpecPath)));
        var specPath = SpecPath;
        if (specRoot is null)
        {
            specRoot = FindUp(d => File.Exists(Path.Combine(d, SharedSpecPath)));
            specPath = SharedSpecPath;
        }
        var prism = Environment.GetEnvironmentVariable("LARSBOT_PRISM") is { Length: > 0 } fromEnv
            ? fromEnv
            : repoRoot is null ? null : Path.Combine(repoRoot, ".tools", "prism", "node_modules", ".bin", "prism");

        if (prism is null || !File.Exists(prism))
        {
            _problem =
                $"Prism is not installed (looked for {prism ?? "<repo root>/.tools/prism/node_modules/.bin/prism"}). " +
                "scripts/test.sh installs it; by hand: npm install --no-audit --no-fund --prefix <repo root>/.tools/prism " +
                "@stoplight/prism-cli@5.14.2 — or point LARSBOT_PRISM at a prism binary.";
            return;
        }
        if (specRoot is null)
        {
            _problem = $"Twilio's OpenAPI spec was not found: no folder above {AppContext.BaseDirectory} holds {SpecPath}.";
            return;
        }

        var port = Ports.Free();
        var start = new ProcessStartInfo(prism)
        {
            ArgumentList = { "mock", "-h", "127.0.0.1", "-p", port.ToString(), "-v", "warn", Path.Combine(specRoot, specPath) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {prism}.");
        _process.OutputDataReceived += Collect;
        _process.ErrorDataReceived += Collect;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var baseUrl = $"http://127.0.0.1:{port}";
        // Polling an external process until it listens (it prints nothing at -v warn), or until it has exited.
        var answered = false;
        await Eventually.HoldsAsync(async () =>
        {
            if (_process.HasExited) return true;
            try
            {
                using var probeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var probe = await Http.GetAsync(baseUrl + "/", probeTimeout.Token);
                return answered = true; // any HTTP answer (Prism says 404 for "/") means it is listening
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                return false;
            }
        }, StartupLimit);
        if (answered)
        {
            _baseUrl = baseUrl;
            return;
        }
        _problem = (_process.HasExited ? $"Prism exited with code {_process.ExitCode}." : $"Prism did not answer within {StartupLimit}.") + Output();
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_process is null)
        {
            return;
        }
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is not null)
        {
            lock (_output) { _output.AppendLine(e.Data); }
        }
    }

    private static string? FindUp(Func<string, bool> holds)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (holds(dir.FullName))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
