-- 002: what an auditor needs to re-read a validation: the run-time parameters it used, the
-- result format, and why an expectation could not be evaluated at all.
alter table audit.validation_run
    add column parameters jsonb not null default '{}'::jsonb,
    add column result_format text;
comment on column audit.validation_run.parameters is
    'Run-time suite parameters that are not reference lists: extract_date (the file''s day) and as_of.';

alter table audit.validation_result
    add column error text;
comment on column audit.validation_result.error is
    'Why Great Expectations could not evaluate the expectation (e.g. a missing column); null when it ran.';
