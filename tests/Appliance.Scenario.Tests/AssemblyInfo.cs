// One lab at a time: every scenario breaks the same lab, and the machine has 2 cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
