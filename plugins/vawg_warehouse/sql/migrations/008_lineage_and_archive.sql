-- 008: lineage and the immutable archive.
--
-- * audit.load_batch.archive_path: where the loader keeps the file's read-only, content-addressed
--   copy (archive.py), relative to the archive root ($VAWG_ARCHIVE_DIR, default $VAWG_HOME/archive).
-- * Schema lineage: dbt's lineage_* views (dbt_project/models/lineage), one per measure mart: for
--   each mart row's key, the load batches of the fact rows behind it. Auditors read it; BI tools
--   do not (vawg_bi_reader gets nothing here): it is an audit tool, not a reporting table.

alter table audit.load_batch add column if not exists archive_path text
    check (archive_path ~ '^[0-9a-f]{2}/[0-9a-f]{64}(\.[a-z0-9]+)?$');
comment on column audit.load_batch.archive_path is
    'The file''s read-only copy, relative to the archive root: <sha256[:2]>/<sha256><suffix>. '
    'Null only for a batch registered before the archive existed and not seen since.';

create schema if not exists lineage;
comment on schema lineage is
    'For each measure mart row, the load batches (and so the files, checksums and validations) behind it. '
    'Read by auditors only.';

grant usage on schema lineage to vawg_auditor;
grant select on all tables in schema lineage to vawg_auditor;
alter default privileges in schema lineage grant select on tables to vawg_auditor;
revoke all on schema lineage from vawg_bi_reader;
