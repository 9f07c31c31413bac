"""dbt in the warehouse: the groups of the nightly run, source freshness, dbt docs, as-of builds
and dbt's run results."""
