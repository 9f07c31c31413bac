"""Taking files in: landing survey and registration, readers, COPY and publish, quarantine and
release, the archive, the columnar fast path, pseudonymisation, the data contracts and the
police.uk extractor.

Kept free of imports: the DAG file reads ``ingest.datasets`` at parse time."""
