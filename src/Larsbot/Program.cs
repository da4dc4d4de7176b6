using Larsbot.Hosting;

// larsbot [run] | check | arbiter | payout | ledger verify | db copy: the commands are in Hosting/Cli.cs (larsbot --help).
return await Cli.InvokeAsync(args, Console.Out, Console.Error);
