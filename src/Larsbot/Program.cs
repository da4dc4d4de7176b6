using Larsbot.Hosting;
using Larsbot.Setup;

// glibc's malloc thresholds fixed before anything allocates much (Setup/NativeHeap.cs says why).
NativeHeap.Apply(Environment.GetEnvironmentVariable("GLIBC_TUNABLES"));
// larsbot [run] | check | arbiter | payout | ledger verify | db copy: the commands are in Hosting/Cli.cs (larsbot --help).
var code = await Cli.InvokeAsync(args, Console.Out, Console.Error);
// A leader that lost its lease stops the host cleanly when it can, and says so in Environment.ExitCode (75).
return code == 0 && Environment.ExitCode != 0 ? Environment.ExitCode : code;
