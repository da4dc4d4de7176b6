using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Larsbot.Tests.Support;

/// <summary>
/// Debian's headless Chromium driven over its DevTools protocol on a WebSocket: no Playwright, no driver download,
/// nothing fetched from the internet. Enough of the protocol for a page test: navigate, evaluate script, wait for a
/// condition, set the viewport, take a PNG. Dispose kills Chromium's whole process tree and removes its profile.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Binary = "/usr/bin/chromium";
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _ws = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _reader = Task.CompletedTask;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>The last lines Chromium wrote to stderr, for a failure message.</summary>
    public string Diagnostics => string.Join('\n', _stderr.TakeLast(20));

    public static async Task<HeadlessChromium> StartAsync(TimeSpan? timeout = null)
    {
        if (!File.Exists(Binary)) throw new InvalidOperationException($"{Binary} not found: scripts/test.sh installs it (apt-get install chromium)");
        var profile = Directory.CreateTempSubdirectory("larsbot-chromium-").FullName;
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // No sandbox (tests run as root in CI), no network chatter of Chromium's own, a throwaway profile.
        foreach (var a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-default-apps", "--disable-extensions", "--disable-sync", "--no-first-run",
                     "--no-default-browser-check", "--mute-audio", "--disable-breakpad", "--disable-crash-reporter", "--hide-scrollbars", "--remote-debugging-port=0",
                     "--remote-allow-origins=*", $"--user-data-dir={profile}", "about:blank",
                 })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("chromium did not start");
        var browser = new HeadlessChromium(process, profile);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) browser._stderr.Enqueue(e.Data); };
        process.OutputDataReceived += (_, e) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await browser.ConnectAsync(timeout ?? TimeSpan.FromSeconds(20));
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    private async Task ConnectAsync(TimeSpan timeout)
    {
        // Chromium writes the port it picked (and the browser's WebSocket path) to DevToolsActivePort once it listens.
        var portFile = Path.Combine(_profile, "DevToolsActivePort");
        var sw = Stopwatch.StartNew();
        var port = 0;
        var every = TimeSpan.FromMilliseconds(25);
        if (!await Eventually.HoldsAsync(() =>
            {
                if (_process.HasExited) throw new InvalidOperationException($"chromium exited with {_process.ExitCode}:\n{Diagnostics}");
                return File.Exists(portFile) && File.ReadAllLines(portFile) is [var first, _, ..] && int.TryParse(first, out port);
            }, timeout, every))
            throw new TimeoutException($"chromium never wrote {portFile}:\n{Diagnostics}");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string? wsUrl = null;
        if (!await Eventually.HoldsAsync(async () =>
            {
                var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
                wsUrl = targets.FirstOrDefault(t => (string?)t!["type"] == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
                return wsUrl is not null;
            }, timeout - sw.Elapsed, every))
            throw new TimeoutException("chromium has no page target");
        await _ws.ConnectAsync(new Uri(wsUrl!), _stop.Token);
        _reader = Task.Run(ReadLoopAsync);
        await SendAsync("Page.enable");
        await SendAsync("Runtime.enable");
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested && _ws.State == WebSocketState.Open)
            {
                var r = await _ws.ReceiveAsync(buffer, _stop.Token);
                if (r.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                using var doc = JsonDocument.Parse(message.ToArray());
                message.SetLength(0);
                // Events (no id) are not needed: tests poll the DOM instead of waiting on them.
                if (!doc.RootElement.TryGetProperty("id", out var idProp)) continue;
                if (!_pending.TryRemove(idProp.GetInt32(), out var tcs)) continue;
                if (doc.RootElement.TryGetProperty("error", out var error))
                    tcs.TrySetException(new InvalidOperationException("DevTools error: " + error.GetRawText()));
                else
                    tcs.TrySetResult(doc.RootElement.GetProperty("result").Clone());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
        foreach (var p in _pending.Values) p.TrySetException(new InvalidOperationException("DevTools connection closed"));
    }

    /// <summary>One DevTools command; returns its result object.</summary>
    public async Task<JsonElement> SendAsync(string method, object? parameters = null, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        await _ws.SendAsync(bytes, WebSocketMessageType.Text, true, _stop.Token);
        return await tcs.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(15));
    }

    public Task NavigateAsync(string url) => SendAsync("Page.navigate", new { url });

    /// <summary>Runs <paramref name="expression"/> in the page; its value as JSON (null when undefined or it threw).</summary>
    public async Task<JsonElement?> EvaluateAsync(string expression)
    {
        var r = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true });
        if (r.TryGetProperty("exceptionDetails", out _)) return null;
        return r.GetProperty("result").TryGetProperty("value", out var v) ? v.Clone() : null;
    }

    public async Task<string?> TextAsync(string expression) =>
        await EvaluateAsync(expression) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    /// <summary>Polls the page every 50 ms until <paramref name="condition"/> holds for the string <paramref name="expression"/> gives.</summary>
    public async Task<string> WaitForTextAsync(string expression, Func<string, bool> condition, TimeSpan timeout, string what)
    {
        string? last = null;
        if (await Eventually.HoldsAsync(async () => (last = await TextAsync(expression)) is not null && condition(last), timeout,
                TimeSpan.FromMilliseconds(50)))
            return last!;
        throw new TimeoutException($"page never showed {what} within {timeout.TotalSeconds:0} s; last value: {last ?? "(none)"}\n" +
                                   $"page text:\n{await TextAsync("document.body ? document.body.innerText : ''")}");
    }

    public Task SetViewportAsync(int width, int height, bool mobile, double scale = 1) =>
        SendAsync("Emulation.setDeviceMetricsOverride", new { width, height, deviceScaleFactor = scale, mobile });

    /// <summary>A PNG of the whole page, not just the viewport.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var metrics = await SendAsync("Page.getLayoutMetrics");
        var size = metrics.GetProperty("cssContentSize");
        var clip = new { x = 0, y = 0, width = size.GetProperty("width").GetDouble(), height = size.GetProperty("height").GetDouble(), scale = 1 };
        var shot = await SendAsync("Page.captureScreenshot", new { format = "png", captureBeyondViewport = true, clip }, TimeSpan.FromSeconds(30));
        return Convert.FromBase64String(shot.GetProperty("data").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        // Asked politely first, Chromium reaps its own renderer and zygote processes; the kill below is the fallback.
        try
        {
            if (_ws.State == WebSocketState.Open) await SendAsync("Browser.close", timeout: TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
        }
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(3));
        }
        catch (TimeoutException)
        {
        }
        _stop.Cancel();
        _ws.Dispose();
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
        }
        _process.Dispose();
        await _reader.WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { }, TaskScheduler.Default);
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
