using System.Text;

namespace Larsbot.Irc;

/// <summary>
/// Reads LF-terminated lines from the server. Invalid UTF-8 (old clients still send Latin-1) becomes U+FFFD rather
/// than an exception, and an absurdly long line is skipped rather than grown into memory without bound.
/// </summary>
internal sealed class IrcLineReader(Stream stream, int maxLineBytes = 16 * 1024)
{
    private static readonly Encoding Lenient = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
    private readonly byte[] _buffer = new byte[maxLineBytes];
    private int _start;
    private int _end;
    private bool _discarding;

    /// <summary>The next line without its CR/LF, or null when the server closed the connection.</summary>
    public async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == '\r')
                    length--;
                var line = Lenient.GetString(_buffer, _start, length);
                _start = newline + 1;
                if (_discarding)
                {
                    _discarding = false;
                    continue;
                }
                return line;
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                _discarding = true;
                _end = 0;
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            if (read == 0)
                return null;
            _end += read;
        }
    }
}
