"""Great Expectations validation of loaded batches: suites and parameters, the GX runtime with
the project's custom expectations, one batch at a time or many in one run, audit rows."""
