using System.Net;
using System.Net.Sockets;

namespace Larsbot.Tests.Support;

public static class Ports
{
    /// <summary>
    /// A loopback port free right now, for a server the test starts a moment later (ngircd, Prism, the bot). Another
    /// process could take it in between; binding to port 0 is not possible for programs that must be told their port.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
