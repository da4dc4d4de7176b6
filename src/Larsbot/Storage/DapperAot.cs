// Every Dapper call in this assembly is compiled by Dapper.AOT: its row and parameter mappings are generated at build
// time instead of emitted at run time, which Native AOT cannot do. Tuples bind by position, as plain Dapper does.
[module: Dapper.DapperAot]
[module: Dapper.BindTupleByName(false)]
