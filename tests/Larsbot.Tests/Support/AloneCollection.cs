namespace Larsbot.Tests.Support;

/// <summary>
/// Tests with a time budget of their own (the 10 s storm): they run after the parallel ones, with the machine to
/// themselves, so the other classes' load on 2 cores cannot decide their outcome.
/// </summary>
[CollectionDefinition(nameof(AloneCollection), DisableParallelization = true)]
public sealed class AloneCollection;
