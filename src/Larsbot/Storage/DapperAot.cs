// Every Dapper call in this assembly is compiled by Dapper.AOT: its row and parameter mappings are generated at build
// time instead of emitted at run time, which Native AOT cannot do. Rows are internal classes, never tuples (Dapper.AOT
// reads those through Dapper's reflection path); DapperAotCoverageTests checks both.
[module: Dapper.DapperAot]
