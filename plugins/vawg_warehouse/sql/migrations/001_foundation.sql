-- 001: schemas, the audit trail, the raw tables of the force extract, and the warehouse roles.
--
-- Schemas, in the order data flows through them:
--   landing     one UNLOGGED table per load batch, every column text, while it is validated
--   quarantine  batches that failed a critical expectation, kept as loaded (never published)
--   raw_force   published, typed rows of the force's files, one row per file row, with its batch
--   audit       what arrived, what was checked and what happened to it
-- dbt owns the rest: reference (seeds), staging, intermediate, marts.

create schema if not exists audit;
create schema if not exists landing;
create schema if not exists quarantine;
create schema if not exists raw_force;

comment on schema audit is 'What arrived, what was checked, what was set aside, and when.';
comment on schema landing is 'Load batches while they are validated: one unlogged table per batch, all text.';
comment on schema quarantine is 'Batches that failed a critical expectation: kept as loaded, never published.';
comment on schema raw_force is 'Published rows of the force extracts, typed, one row per file row, with its load batch.';

create table audit.load_batch (
    batch_id bigint generated always as identity primary key,
    dataset text not null,
    file_name text not null,
    file_sha256 text not null check (file_sha256 ~ '^[0-9a-f]{64}$'),
    file_size_bytes bigint not null,
    status text not null default 'registered'
        check (status in ('registered', 'loaded', 'validated', 'published', 'quarantined', 'failed')),
    rows_read bigint,
    rows_loaded bigint,
    rows_rejected bigint,
    error_message text,
    dag_id text,
    dag_run_id text,
    logical_date date,
    registered_at timestamptz not null default clock_timestamp(),
    loaded_at timestamptz,
    validated_at timestamptz,
    published_at timestamptz,
    unique (dataset, file_sha256)
);
comment on table audit.load_batch is
    'One row per source file taken in: its checksum, size, row counts and status. '
    'A file whose checksum is already here as published or quarantined is not loaded again.';
comment on column audit.load_batch.file_name is 'Path of the file relative to the landing folder.';
comment on column audit.load_batch.rows_read is 'Data rows read from the file (header excluded).';
comment on column audit.load_batch.rows_loaded is 'Rows published to the raw table (0 when quarantined).';
comment on column audit.load_batch.rows_rejected is 'Rows set aside: the whole batch when it is quarantined.';

create table audit.load_batch_event (
    event_id bigint generated always as identity primary key,
    batch_id bigint not null references audit.load_batch (batch_id),
    status text not null,
    detail jsonb not null default '{}'::jsonb,
    dag_run_id text,
    occurred_at timestamptz not null default clock_timestamp()
);
comment on table audit.load_batch_event is
    'Append-only history of every status change of every load batch.';

create table audit.validation_run (
    validation_run_id bigint generated always as identity primary key,
    batch_id bigint not null references audit.load_batch (batch_id),
    suite_name text not null,
    suite_sha256 text not null,
    gx_version text not null,
    success boolean not null,
    critical_failures integer not null,
    warning_failures integer not null,
    dag_run_id text,
    started_at timestamptz not null,
    finished_at timestamptz not null
);
comment on table audit.validation_run is
    'One Great Expectations validation of one load batch against its suite (the suite file''s sha256 is kept).';

create table audit.validation_result (
    validation_run_id bigint not null references audit.validation_run (validation_run_id),
    expectation_index integer not null,
    rule text not null,
    expectation_type text not null,
    column_name text,
    severity text not null check (severity in ('critical', 'warning')),
    success boolean not null,
    element_count bigint,
    unexpected_count bigint,
    unexpected_percent numeric,
    failing_row_numbers bigint[],
    observed_value jsonb,
    kwargs jsonb not null default '{}'::jsonb,
    primary key (validation_run_id, expectation_index)
);
comment on table audit.validation_result is
    'One row per expectation per validation run. failing_row_numbers holds up to 20 file line '
    'numbers of failing rows (never values, so never personal data).';

create table audit.pipeline_run (
    pipeline_run_id bigint generated always as identity primary key,
    dag_id text not null,
    dag_run_id text not null,
    logical_date date,
    code_version text not null,
    summary jsonb not null,
    finished_at timestamptz not null default clock_timestamp()
);
comment on table audit.pipeline_run is
    'One row each time a nightly run finishes: what it took in, published and quarantined.';

create table raw_force.crimes (
    crime_reference text not null,
    recorded_date date not null,
    offence_date date,
    ho_offence_code text not null,
    domestic_abuse_flag boolean not null,
    local_authority_code text not null,
    victim_pseudonym text not null,
    victim_age_band text not null,
    victim_sex text not null,
    suspect_pseudonym text,
    extracted_at timestamptz not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index crimes_batch_idx on raw_force.crimes (_batch_id);
comment on table raw_force.crimes is
    'Published rows of force_crimes files (contract: plugins/vawg_warehouse/contracts/force_crimes.yml). '
    '_batch_id points at audit.load_batch; _row_number is the line in the file (header = 1).';

create table raw_force.outcomes (
    crime_reference text not null,
    outcome_sequence integer not null,
    outcome_code text not null,
    outcome_date date not null,
    extracted_at timestamptz not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index outcomes_batch_idx on raw_force.outcomes (_batch_id);
comment on table raw_force.outcomes is
    'Published rows of force_outcomes files (contract: plugins/vawg_warehouse/contracts/force_outcomes.yml).';

-- Roles: NOLOGIN groups. Grant them to login users; each gets only what it needs.
do $$
begin
    if not exists (select from pg_roles where rolname = 'vawg_bi_reader') then
        create role vawg_bi_reader nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'vawg_auditor') then
        create role vawg_auditor nologin;
    end if;
end
$$;
comment on role vawg_bi_reader is 'BI tools (Power BI, Metabase): read the marts, nothing else.';
comment on role vawg_auditor is 'Auditors: read the audit trail and the marts, nothing else.';

grant usage on schema audit to vawg_auditor;
grant select on all tables in schema audit to vawg_auditor;
alter default privileges in schema audit grant select on tables to vawg_auditor;
