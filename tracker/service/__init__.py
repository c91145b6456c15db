"""The use cases, over the database and the pure code: load a prediction's inputs and
evaluate (evaluation), judge freshness (freshness), poll the sources (poll), fetch
history (backfill), check the registry's links (links). No click, no scheduler: the CLI
and the daemon (jobs/) call these."""
