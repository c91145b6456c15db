"""The scheduler and its jobs: the poll cycle (sources -> db -> evaluation)."""
