-- 007: what dbt did in each run, the versions every run used, and the auditor's run report.
--
-- audit.dbt_run / audit.dbt_result are written by dbt itself (the on-run-end hook in
-- dbt_project/macros/audit_results.sql), once per dbt invocation, wherever the task ran; dbt runs
-- started by hand can be added from their run_results.json (vawg_warehouse.dbt_results).
-- Only what run_results.json says about each node is kept: never compiled SQL, never row data.
-- All three tables are insert-only: a regenerated report is a new row, the newest one counts.

create table audit.dbt_run (
    invocation_id text primary key,
    command text,
    dbt_version text not null,
    project_name text,
    target_name text,
    success boolean not null,
    node_count integer not null,
    dag_id text,
    dag_run_id text,
    task_id text,
    try_number integer,
    recorded_by text not null check (recorded_by in ('on-run-end', 'run_results.json')),
    started_at timestamptz,
    ended_at timestamptz,
    recorded_at timestamptz not null default clock_timestamp()
);
create index dbt_run_dag_run_idx on audit.dbt_run (dag_run_id);
comment on table audit.dbt_run is
    'One row per dbt invocation (dbt build, test, seed ...): dbt''s version, the target, and the '
    'Airflow run and task that started it (empty for a dbt run from the command line).';
comment on column audit.dbt_run.success is
    'Every node passed, succeeded or was skipped (no error, no failing test).';

create table audit.dbt_result (
    invocation_id text not null references audit.dbt_run (invocation_id),
    unique_id text not null,
    resource_type text not null,
    relation_name text,
    status text not null,
    execution_seconds numeric,
    rows_affected bigint,
    failures bigint,
    message text,
    started_at timestamptz,
    completed_at timestamptz,
    primary key (invocation_id, unique_id)
);
comment on table audit.dbt_result is
    'One row per node per dbt invocation, as in dbt''s run_results.json: status (success, error, '
    'skipped, pass, fail, warn), time, rows affected, failing rows of a test. message is dbt''s '
    'message with database detail lines and quoted values removed (audit.dbt_message_redacted).';

-- PostgreSQL puts row values in DETAIL lines ("Failing row contains ...", "Key (...)=(...)") and
-- after a colon or the word value ("invalid input syntax for type date: \"...\""); dbt appends
-- the compiled SQL's path. Keep the rest: it says what went wrong without saying about whom.
create function audit.dbt_message_redacted(message text) returns text
language sql immutable
return left(
    btrim(regexp_replace(
        regexp_replace(
            regexp_replace(
                message,
                '\s*(DETAIL|HINT|CONTEXT|LINE [0-9]+|QUERY|compiled code at)\M.*$', ''
            ),
            '(:|\mvalue) "[^"]*"', '\1 "(redacted)"', 'g'
        ),
        '\s+', ' ', 'g'
    )),
    1000
);
comment on function audit.dbt_message_redacted(text) is
    'dbt''s message without DETAIL/HINT/CONTEXT lines, SQL, or quoted values: no row data.';

-- One way in for both paths (the dbt hook and vawg_warehouse.dbt_results): a JSON document with
-- the invocation (invocation_id, command, dbt_version, project_name, target_name, dag_id,
-- dag_run_id, task_id, try_number, started_at) and its nodes (unique_id, resource_type,
-- relation_name, status, execution_seconds, rows_affected, failures, message, started_at,
-- completed_at). An invocation already recorded is left as it is. Returns the nodes recorded.
create function audit.record_dbt_run(doc jsonb, recorded_by text) returns bigint
language sql
begin atomic
    with
    node as (
        select n.*
        from jsonb_to_recordset(coalesce(doc -> 'nodes', '[]'::jsonb)) as n (
            unique_id text,
            resource_type text,
            relation_name text,
            status text,
            execution_seconds numeric,
            rows_affected bigint,
            failures bigint,
            message text,
            started_at timestamptz,
            completed_at timestamptz
        )
    ),
    run as (
        insert into audit.dbt_run (
            invocation_id, command, dbt_version, project_name, target_name, success, node_count,
            dag_id, dag_run_id, task_id, try_number, recorded_by, started_at, ended_at
        )
        values (
            doc ->> 'invocation_id',
            nullif(doc ->> 'command', ''),
            doc ->> 'dbt_version',
            nullif(doc ->> 'project_name', ''),
            nullif(doc ->> 'target_name', ''),
            not exists (
                select from node
                where node.status in ('error', 'fail', 'runtime error', 'partial success')
            ),
            (select count(*) from node),
            nullif(doc ->> 'dag_id', ''),
            nullif(doc ->> 'dag_run_id', ''),
            nullif(doc ->> 'task_id', ''),
            nullif(doc ->> 'try_number', '')::integer,
            recorded_by,
            (doc ->> 'started_at')::timestamptz,
            coalesce((doc ->> 'ended_at')::timestamptz, clock_timestamp())
        )
        on conflict (invocation_id) do nothing
        returning invocation_id
    ),
    recorded as (
        insert into audit.dbt_result (
            invocation_id, unique_id, resource_type, relation_name, status, execution_seconds,
            rows_affected, failures, message, started_at, completed_at
        )
        select
            run.invocation_id,
            node.unique_id,
            node.resource_type,
            node.relation_name,
            node.status,
            node.execution_seconds,
            node.rows_affected,
            node.failures,
            nullif(audit.dbt_message_redacted(node.message), ''),
            node.started_at,
            node.completed_at
        from node
        cross join run
        returning 1
    )
    select count(*) from recorded;
end;
comment on function audit.record_dbt_run(jsonb, text) is
    'Record one dbt invocation and its nodes (see migration 007); a repeated invocation_id is ignored.';

create table audit.run_report (
    report_id bigint generated always as identity primary key,
    dag_id text,
    dag_run_id text not null,
    logical_date date,
    status text not null check (status in ('ok', 'warnings', 'quarantined', 'failed')),
    figures jsonb not null,
    html text not null,
    generated_at timestamptz not null default clock_timestamp()
);
create index run_report_dag_run_idx on audit.run_report (dag_run_id, generated_at desc);
comment on table audit.run_report is
    'The auditor''s report of a run, as one self-contained HTML page (vawg_warehouse.reports), with '
    'its headline figures. Regenerating a report adds a row; the newest row of a run is current.';

-- Every run and every validation says which code, suites and dbt project it used
-- (vawg_warehouse.versions).
alter table audit.pipeline_run
    add column suites_sha256 text,
    add column dbt_project_sha256 text,
    add column versions jsonb;
comment on column audit.pipeline_run.code_version is
    'Package version, +g<git commit> when run from a checkout (.dirty: uncommitted changes).';
comment on column audit.pipeline_run.suites_sha256 is
    'sha256 over the sha256 of every expectation suite file (versions jsonb lists each suite).';
comment on column audit.pipeline_run.dbt_project_sha256 is
    'sha256 over the dbt project files that define models, seeds, macros and tests.';

alter table audit.validation_run
    add column code_version text;
comment on column audit.validation_run.code_version is
    'Package version (+g<git commit>) that ran the validation; suite_sha256 is the suite''s version.';

-- Append-only like the other history tables: where migration 006's audit.refuse_change() exists
-- (it is written in parallel), the new tables refuse update, delete and truncate too.
do $$
declare
    history text;
begin
    if to_regprocedure('audit.refuse_change()') is null then
        return;
    end if;
    foreach history in array array['dbt_run', 'dbt_result', 'run_report'] loop
        execute format(
            'create trigger %I before update or delete on audit.%I '
            'for each row execute function audit.refuse_change()',
            history || '_append_only', history
        );
        execute format(
            'create trigger %I before truncate on audit.%I '
            'for each statement execute function audit.refuse_change()',
            history || '_no_truncate', history
        );
    end loop;
end;
$$;

-- dbt writes its own results: a login used by dbt gets this group, which may add rows, nothing else.
do $$
begin
    if not exists (select from pg_roles where rolname = 'vawg_dbt_recorder') then
        create role vawg_dbt_recorder nologin;
    end if;
end
$$;
comment on role vawg_dbt_recorder is 'dbt''s login: insert its run results into audit, nothing else.';
grant usage on schema audit to vawg_dbt_recorder;
grant insert on audit.dbt_run, audit.dbt_result to vawg_dbt_recorder;
grant execute on function audit.dbt_message_redacted(text) to vawg_dbt_recorder, vawg_auditor;
grant execute on function audit.record_dbt_run(jsonb, text) to vawg_dbt_recorder;
-- The auditor's select on the new tables comes from 001's default privileges in schema audit.
