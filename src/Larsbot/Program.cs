using Larsbot.Hosting;

// larsbot [run] | check | arbiter | payout | ledger verify: the commands are in Hosting/Cli.cs (larsbot --help).
return await Cli.InvokeAsync(args, Console.Out, Console.Error);
