global using Larsbot.Outbox;
global using Larsbot.Text;
