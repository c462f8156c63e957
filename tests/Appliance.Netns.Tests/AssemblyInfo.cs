// One topology at a time: keepalived's timings are what these tests look at, and the machine has 2 cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
