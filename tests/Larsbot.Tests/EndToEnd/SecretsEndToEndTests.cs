using System.Net;
using System.Net.Sockets;
using System.Text;
using Larsbot.Hosting;
using Larsbot.Tests.Irc;
using Larsbot.Tests.Notify;
using Larsbot.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Larsbot.Tests.EndToEnd;

/// <summary>
/// Provider and intake tokens come from a config file (mode 0644, so the bot must warn); the bot pages, refuses bad
/// tokens, serves /health; then every log line (Trace), /health and the channel are scanned for the secrets.
/// </summary>
public sealed class SecretsEndToEndTests
{
    private const string IntakeToken = "intake-secret-5b1e0c7d9a";

    [Fact]
    public async Task Secrets_never_reach_logs_health_or_the_channel_and_a_world_readable_config_is_warned_about()
    {
        await using var rig = await BotRig.StartAsync();
        var (irc, providers, db, settings) = rig;
        var config = Path.Combine(db.Dir, "larsbot.json");
        await File.WriteAllTextAsync(config, $$$"""
            {"Twilio": {"AuthToken": "{{{FakeProviders.DefaultAuthToken}}}"}, "Pushover": {"AppToken": "{{{FakeProviders.DefaultPushoverAppToken}}}"},
             "Intake": {"AllowLoopbackWithoutToken": false, "Tokens": [{"Name": "ops", "Token": "{{{IntakeToken}}}"}]}}
            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(config, (UnixFileMode)0b110_100_100); // 0644
        settings.Remove("Twilio:AuthToken");
        settings.Remove("Pushover:AppToken");
        settings["Logging:LogLevel:Default"] = "Trace";
        settings["Paging:Countdown"] = "00:00:00.500";
        var logs = new CollectingLoggerProvider();
        var app = LarsbotHost.Build([], config, settings, s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        await app.StartAsync();
        try
        {
            var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
            await using var watcher = await RawIrcClient.ConnectAsync(irc.Port, "watcher");
            await watcher.JoinAsync(RunningBot.Channel);

            using var bad = new HttpRequestMessage(HttpMethod.Post, "/alerts") { Content = new StringContent("host=x&message=y&token=" + IntakeToken + "x", Encoding.UTF8, "application/x-www-form-urlencoded") };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(bad)).StatusCode);
            using var good = new HttpRequestMessage(HttpMethod.Post, "/alerts") { Content = new StringContent("host=gw&level=urgent&message=down", Encoding.UTF8, "application/x-www-form-urlencoded") };
            good.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", IntakeToken);
            Assert.Equal(HttpStatusCode.Accepted, (await http.SendAsync(good)).StatusCode);
            using (var tcp = new TcpClient())
            {
                await tcp.ConnectAsync("127.0.0.1", await app.Services.GetRequiredService<Larsbot.Intake.TcpIntakeServer>().Port);
                await tcp.GetStream().WriteAsync(Encoding.UTF8.GetBytes($"AUTH {IntakeToken}z\n"));
                Assert.StartsWith("ERR 401", await new StreamReader(tcp.GetStream()).ReadLineAsync());
            }
            await watcher.WaitForLineAsync(l => l.Contains("LarsSMS: nobody on duty, paging everybody"), TimeSpan.FromSeconds(15));
            await Eventually.HoldsAsync(() => providers.TwilioRequests.Count + providers.PushoverRequests.Count >= 3, TimeSpan.FromSeconds(15)); // the pages went out
            var health = await (await http.GetAsync("/health")).Content.ReadAsStringAsync();

            Assert.Contains(logs.Lines, l => l.Contains("is readable by group or others (mode 644)"));
            string[] secrets = [IntakeToken, FakeProviders.DefaultAuthToken, FakeProviders.DefaultPushoverAppToken];
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(logs.Lines, l => l.Contains(secret));
                Assert.DoesNotContain(secret, health);
                Assert.DoesNotContain(watcher.Lines, l => l.Contains(secret));
            }
            Assert.True(logs.Lines.Count > 20, "the scan must have had log lines to look at");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
