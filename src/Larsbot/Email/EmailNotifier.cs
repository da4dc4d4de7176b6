using System.Net.Sockets;
using Larsbot.Notify;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Larsbot.Email;

/// <summary>
/// The outbox's 'email' channel: one digest row is one message over SMTP (Email:SmtpHost). Destination holds the
/// recipients ("a@x, b@y"), Title the subject, Body the text. Like every notifier it makes one attempt and says what
/// it was; the outbox retries. MailKit's messages never carry the password.
/// </summary>
internal sealed class EmailNotifier(IOptions<EmailOptions> options) : INotifier
{
    private readonly EmailOptions _options = options.Value;

    public string Channel => "email";

    public async Task<SendResult> SendAsync(PageMessage message, CancellationToken cancellationToken)
    {
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(_options.From));
        foreach (var r in message.Destination.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            mail.To.Add(MailboxAddress.Parse(r));
        mail.Subject = message.Title;
        mail.Body = new TextPart("plain") { Text = message.Body };
        try
        {
            using var client = new SmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds };
            await client.ConnectAsync(_options.SmtpHost, _options.SmtpPort, Enum.Parse<SecureSocketOptions>(_options.Security, ignoreCase: true), cancellationToken);
            if (_options.Username.Length > 0)
            {
                // StartTlsWhenAvailable carries on in plain text when the server (or someone in between) offers no
                // STARTTLS: then the password stays here, and retrying would not change that.
                if (!client.IsSecure)
                    return SendResult.GiveUp($"SMTP server {_options.SmtpHost}:{_options.SmtpPort} gave no TLS (Email:Security {_options.Security}); " +
                                             "not logging in over plain text. Use Email:Security StartTls or SslOnConnect");
                await client.AuthenticateAsync(_options.Username, _options.Password, cancellationToken);
            }
            var answer = await client.SendAsync(mail, cancellationToken);
            await client.DisconnectAsync(true, cancellationToken);
            return SendResult.Sent(mail.MessageId ?? "smtp", Line(answer));
        }
        catch (NotSupportedException e)
        {
            // Email:Security asks for something the server does not offer (STARTTLS): a setting to change, not a blip.
            return SendResult.GiveUp($"SMTP: {Line(e.Message)}");
        }
        catch (AuthenticationException e)
        {
            return SendResult.GiveUp($"SMTP login refused: {Line(e.Message)}");
        }
        catch (SmtpCommandException e) when ((int)e.StatusCode >= 500)
        {
            return SendResult.GiveUp($"SMTP {(int)e.StatusCode}: {Line(e.Message)}");
        }
        catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or IOException or SocketException or SslHandshakeException
                                      or ServiceNotConnectedException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // 4xx, a dropped or refused connection, a handshake or a timeout: worth trying again later.
            return SendResult.Retry($"SMTP: {e.GetType().Name}: {Line(e.Message)}", mayHaveBeenDelivered: e is not SocketException);
        }
    }

    private static string Line(string s)
    {
        var flat = s.Replace('\r', ' ').Replace('\n', ' ');
        return flat.Length <= 200 ? flat : flat[..200] + "…";
    }
}
