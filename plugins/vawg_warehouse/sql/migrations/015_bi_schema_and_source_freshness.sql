-- 015: the BI layer's schema (BI tools read it and nothing else), and the record of dbt's source
-- freshness checks. Runs as vawg_owner (migrations.py).
--
-- Schema bi holds dbt's views with display names over the publication tables, the public and
-- funding marts and the dimensions BI needs (dbt_project/models/bi), and bi.data_as_of. From
-- here on vawg_bi_reader reads bi only: its usage on marts and publication, and select on their
-- relations, are revoked (dbt's grants config no longer gives them either). The owner may
-- revoke what dbt granted because it is a member of vawg_pipeline, which owns those relations.

do $$
begin
    if not exists (select from pg_namespace where nspname = 'bi') then
        create schema bi;
    end if;
end;
$$;
comment on schema bi is
    'What BI tools read (Power BI, Metabase): views with display names over the publication '
    'tables, the public and funding marts and the dimensions they need, and data_as_of. Built by '
    'dbt as vawg_pipeline; vawg_bi_reader reads this schema and nothing else.';
grant usage, create on schema bi to vawg_pipeline;
grant usage on schema bi to vawg_bi_reader, vawg_auditor;

do $$
declare
    s text;
begin
    foreach s in array array['marts', 'publication'] loop
        if exists (select from pg_namespace where nspname = s) then
            execute format('revoke all on schema %I from vawg_bi_reader', s);
            execute format('revoke all on all tables in schema %I from vawg_bi_reader', s);
        end if;
    end loop;
end;
$$;
comment on schema marts is
    'Dimensions (dim_*), facts (fct_*) and one mart per measure (mart_*). Auditors read them; BI '
    'tools read schema bi instead.';

-- dbt source freshness, run by the nightly DAG's source_freshness task: one row per source
-- table checked. A stale source is a warning for someone to look at, never a failed run.
create table audit.source_freshness (
    freshness_check_id bigint generated always as identity primary key,
    source_name text not null,
    table_name text not null,
    status text not null,
    max_loaded_at timestamptz,
    snapshotted_at timestamptz,
    age_seconds double precision,
    warn_after text,
    error_after text,
    dbt_invocation_id text,
    dag_id text,
    dag_run_id text,
    checked_at timestamptz not null default clock_timestamp()
);
create index source_freshness_checked_idx on audit.source_freshness (source_name, table_name, checked_at);
comment on table audit.source_freshness is
    'One row per source table per dbt source freshness check: the newest _published_at '
    '(max_loaded_at), its age when checked and the result (pass, warn, error, runtime error) '
    'against the warn_after / error_after of the source''s yml.';

do $$
begin
    if to_regprocedure('audit.refuse_change()') is null then
        return;
    end if;
    create trigger source_freshness_append_only before update or delete on audit.source_freshness
        for each row execute function audit.refuse_change();
    create trigger source_freshness_no_truncate before truncate on audit.source_freshness
        for each statement execute function audit.refuse_change();
end;
$$;

grant select on audit.source_freshness to vawg_auditor;
