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

-- The evidence for each load batch in one row, for auditors who use SQL: the file, where its
-- archived copy is, what happened to it, and the latest validation with the rules that failed.
-- Join it to a lineage view on batch_id (README, "Lineage and reproducibility").
create view audit.load_batch_evidence as
select
    b.batch_id,
    b.dataset,
    b.status,
    b.file_name,
    b.file_sha256,
    b.file_size_bytes,
    b.archive_path,
    b.rows_read,
    b.rows_loaded,
    b.rows_rejected,
    b.error_message,
    b.registered_at,
    b.published_at,
    (select count(*) from audit.validation_run as r where r.batch_id = b.batch_id) as validation_runs,
    v.validation_run_id as last_validation_run_id,
    v.suite_name,
    v.suite_sha256,
    v.success as last_validation_success,
    v.critical_failures,
    v.warning_failures,
    v.finished_at as last_validated_at,
    coalesce(f.failed_rules, '[]'::jsonb) as failed_rules
from audit.load_batch as b
left join lateral (
    select r.*
    from audit.validation_run as r
    where r.batch_id = b.batch_id
    order by r.finished_at desc, r.validation_run_id desc
    limit 1
) as v on true
left join lateral (
    select jsonb_agg(
        jsonb_build_object(
            'rule', res.rule,
            'severity', res.severity,
            'column', res.column_name,
            'unexpected_count', res.unexpected_count,
            'failing_row_numbers', res.failing_row_numbers
        )
        order by res.expectation_index
    ) as failed_rules
    from audit.validation_result as res
    where res.validation_run_id = v.validation_run_id and not res.success
) as f on true;
comment on view audit.load_batch_evidence is
    'One row per load batch: file, sha256, archive path, status, row counts, and its latest '
    'validation with the rules that failed (line numbers only, never values).';
grant select on audit.load_batch_evidence to vawg_auditor;
