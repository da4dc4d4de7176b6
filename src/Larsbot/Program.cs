using Larsbot.Hosting;

// larsbot [run] | check | arbiter | payout | ledger verify | db copy: the commands are in Hosting/Cli.cs (larsbot --help).
var code = await Cli.InvokeAsync(args, Console.Out, Console.Error);
// A leader that lost its lease stops the host cleanly when it can, and says so in Environment.ExitCode (75).
return code == 0 && Environment.ExitCode != 0 ? Environment.ExitCode : code;
