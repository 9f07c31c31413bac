-- The nightly run builds dbt in a handful of groups (vawg_warehouse.transform): the shared
-- reference data and conformed dimensions, then one group per source family. A group is rebuilt
-- when the dbt project changed, when its family published new rows, or when the shared group was
-- rebuilt after it; otherwise only its data tests run. Each attempt is one row here, so an auditor
-- can see why a mart was (or was not) rebuilt that night. Append-only like the other history.

create table audit.dbt_group_build (
    group_build_id bigint generated always as identity primary key,
    group_name text not null,
    command text not null check (command in ('build', 'test')),
    reason text not null,
    dbt_project_sha256 text not null,
    -- The newest audit.load_batch_event (published or released) of the family's datasets that
    -- this build saw; null for the shared group.
    published_through_event_id bigint,
    success boolean not null,
    node_count integer not null,
    failed_nodes text[] not null default '{}',
    dbt_invocation_id text,
    dag_id text,
    dag_run_id text,
    task_id text,
    started_at timestamptz not null,
    finished_at timestamptz not null
);
create index dbt_group_build_group_idx on audit.dbt_group_build (group_name, group_build_id);
comment on table audit.dbt_group_build is
    'One row per dbt group build or test of the nightly run: what was run (build or test only), '
    'why, against which dbt project version and which published batches, and whether it passed.';

do $$
begin
    if to_regprocedure('audit.refuse_change()') is null then
        return;
    end if;
    create trigger dbt_group_build_append_only before update or delete on audit.dbt_group_build
        for each row execute function audit.refuse_change();
    create trigger dbt_group_build_no_truncate before truncate on audit.dbt_group_build
        for each statement execute function audit.refuse_change();
end;
$$;

grant select on audit.dbt_group_build to vawg_auditor;
