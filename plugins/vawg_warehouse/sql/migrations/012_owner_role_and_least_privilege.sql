-- 012: one owner of the warehouse, and each role only what it needs.
--
-- Until now the login that ran the pipeline created, and so owned, every schema, audit table and
-- trigger: it could `alter table audit.load_batch disable trigger all` and rewrite history. A
-- trigger can be disabled only by the table's owner (or a superuser), so from here on:
--
--   vawg_owner      (NOLOGIN) owns every schema, every table of audit and raw_*, every function
--                   and trigger. Migrations from 013 on run as it (migrations.py: SET ROLE). Grant
--                   it to the login that runs `vawg migrate`, never to the pipeline's login.
--   vawg_pipeline   (NOLOGIN; grant it to the pipeline's login) loads, validates, publishes and
--                   runs dbt: reads audit, adds rows to it, updates the status of a load batch
--                   (audit.load_batch's trigger keeps a file's identity); inserts and deletes (a
--                   batch re-published) in raw_*; creates in landing and quarantine (one table
--                   per batch) and in dbt's schemas, so it owns what dbt builds (dbt replaces a
--                   relation on every run, which only its owner may do). It owns no audit table
--                   and is not a member of vawg_owner: it cannot disable a trigger, cannot
--                   update, delete or truncate the audit history, cannot drop an audit table.
--   vawg_bi_reader  the measure marts (marts.mart_*), the dimensions they use and schema
--                   publication: select granted per relation by dbt (dbt_project.yml, grants);
--                   no fact table (fct_*: crime references, victim pseudonyms), nothing of
--                   raw_*, landing, quarantine, staging, intermediate, lineage or audit.
--   vawg_auditor    audit, marts, lineage and publication; nothing raw.
--   vawg_dbt_recorder  as in 007: adds dbt's run results to audit, nothing else.
--
-- Roles belong to the cluster, not the database: migrations.py creates the missing ones (and
-- makes vawg_owner a member of vawg_pipeline) before any migration runs, or a DBA does (README).
-- This migration runs as the login that runs `vawg migrate` (a superuser, or a member of
-- vawg_owner); it hands over what migrations 001-011 and dbt made, whoever made them, then sets
-- the privileges. It is safe on a fresh database and on one migrated before the owner existed.

-- dbt's schemas exist before dbt runs, owned by the owner; dbt (as vawg_pipeline) creates in them.
do $$
declare
    wanted text;
begin
    foreach wanted in array array[
        'reference', 'staging', 'intermediate', 'marts', 'lineage', 'publication'
    ] loop
        if not exists (select from pg_namespace where nspname = wanted) then
            execute format('create schema %I', wanted);
        end if;
    end loop;
end;
$$;
comment on schema reference is 'dbt seeds: reference data (codes, populations, parameters). Built by dbt as vawg_pipeline.';
comment on schema staging is 'dbt staging views, one per raw table. Built by dbt as vawg_pipeline.';
comment on schema intermediate is 'dbt intermediate views. Built by dbt as vawg_pipeline.';
comment on schema marts is
    'Dimensions (dim_*), facts (fct_*) and one mart per measure (mart_*). vawg_bi_reader reads the '
    'measure marts and the dimensions they use, never a fact table.';
comment on schema publication is 'Measure marts with small numbers suppressed: what may leave the office.';

-- Ownership. A relation dbt builds, and a per-batch table of landing or quarantine, belongs to
-- vawg_pipeline (the role that replaces it); everything else to vawg_owner. A table's sequences,
-- indexes, triggers and row type follow it.
do $$
declare
    before_012 oid := (select nspowner from pg_namespace where nspname = 'audit');
    obj record;
begin
    create temporary table vawg_012_schema on commit drop as
    select
        n.oid,
        n.nspname,
        case
            when n.nspname like 'asof\_%' then 'vawg_pipeline'
            else 'vawg_owner'
        end as schema_owner,
        case
            when n.nspname in (
                'landing', 'quarantine', 'reference', 'staging', 'intermediate', 'marts',
                'lineage', 'publication'
            ) or n.nspname like 'asof\_%' then 'vawg_pipeline'
            else 'vawg_owner'
        end as content_owner
    from pg_namespace as n
    where n.nspname in (
            'audit', 'landing', 'quarantine', 'reference', 'staging', 'intermediate', 'marts',
            'lineage', 'publication'
        )
        or n.nspname like 'raw\_%'
        or n.nspname like 'asof\_%'
        -- any other schema an earlier migration made (as the login that owned audit)
        or (
            n.nspowner = before_012
            and n.nspname not like 'pg\_%'
            and n.nspname not in ('public', 'information_schema')
        );

    for obj in
        select s.nspname, s.schema_owner
        from vawg_012_schema as s
        join pg_namespace as n on n.oid = s.oid
        where n.nspowner <> s.schema_owner::regrole
    loop
        execute format('alter schema %I owner to %I', obj.nspname, obj.schema_owner);
    end loop;
    -- dbt and the loader create in these (and a new owner needs the right to create there)
    for obj in select s.nspname from vawg_012_schema as s where s.content_owner = 'vawg_pipeline' loop
        execute format('grant usage, create on schema %I to vawg_pipeline', obj.nspname);
    end loop;

    for obj in
        select
            c.oid::regclass as relation,
            case c.relkind
                when 'v' then 'view'
                when 'm' then 'materialized view'
                when 'S' then 'sequence'
                when 'f' then 'foreign table'
                when 'c' then 'type'
                else 'table'
            end as kind,
            s.content_owner
        from pg_class as c
        join vawg_012_schema as s on s.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f', 'c')
            and c.relowner <> s.content_owner::regrole
            -- a sequence of an identity or serial column follows its table
            and not (
                c.relkind = 'S'
                and exists (
                    select from pg_depend as d
                    where d.classid = 'pg_class'::regclass and d.objid = c.oid
                        and d.deptype in ('a', 'i')
                )
            )
    loop
        execute format('alter %s %s owner to %I', obj.kind, obj.relation, obj.content_owner);
    end loop;

    for obj in
        select p.oid::regprocedure as routine
        from pg_proc as p
        join vawg_012_schema as s on s.oid = p.pronamespace
        where p.proowner <> 'vawg_owner'::regrole and p.prokind in ('f', 'p')
    loop
        execute format('alter routine %s owner to vawg_owner', obj.routine);
    end loop;

    for obj in
        select t.oid::regtype as type_name, t.typtype
        from pg_type as t
        join vawg_012_schema as s on s.oid = t.typnamespace
        where t.typtype in ('e', 'd', 'r') and t.typowner <> 'vawg_owner'::regrole
    loop
        execute format(
            'alter %s %s owner to vawg_owner',
            case obj.typtype when 'd' then 'domain' else 'type' end,
            obj.type_name
        );
    end loop;
end;
$$;

-- vawg_pipeline ---------------------------------------------------------------------------
do $$
declare
    s text;
begin
    for s in
        select nspname from pg_namespace
        where nspname in (
                'audit', 'landing', 'quarantine', 'reference', 'staging', 'intermediate',
                'marts', 'lineage', 'publication'
            )
            or nspname like 'raw\_%'
    loop
        execute format('grant usage on schema %I to vawg_pipeline', s);
    end loop;
    -- The raw tables: a batch is published with insert, and re-published after a delete of its
    -- rows (load.publish_batch); never updated or truncated. A raw schema of a later migration
    -- grants the same (the default privileges below cover its tables once the schema exists).
    for s in select nspname from pg_namespace where nspname like 'raw\_%' loop
        execute format('revoke all on all tables in schema %I from vawg_pipeline', s);
        execute format('grant select, insert, delete on all tables in schema %I to vawg_pipeline', s);
        execute format(
            'alter default privileges for role vawg_owner in schema %I '
            'grant select, insert, delete on tables to vawg_pipeline',
            s
        );
    end loop;
end;
$$;

-- The audit trail: read it, add to it; of its rows only a load batch's status and counts
-- change (update; audit.guard_load_batch refuses a change of what identifies the file).
-- Nothing else is updated or deleted by anyone (the append-only triggers, which only
-- vawg_owner could disable).
revoke all on all tables in schema audit from vawg_pipeline;
grant select, insert on all tables in schema audit to vawg_pipeline;
revoke insert on audit.schema_migration from vawg_pipeline;
grant update on audit.load_batch to vawg_pipeline;
grant execute on function audit.record_dbt_run(jsonb, text), audit.dbt_message_redacted(text)
    to vawg_pipeline;
alter default privileges for role vawg_owner in schema audit
    grant select, insert on tables to vawg_pipeline;

-- New schemas: the owner's (later migrations) and the pipeline's (`vawg asof` builds into
-- asof_* schemas of its own). Only where this login may give it; otherwise a DBA does (README).
do $$
begin
    if has_database_privilege(current_database(), 'CREATE WITH GRANT OPTION') then
        execute format(
            'grant create on database %I to vawg_owner, vawg_pipeline', current_database()
        );
    else
        raise notice 'grant create on database % to vawg_owner, vawg_pipeline: % may not',
            current_database(), current_user;
    end if;
end;
$$;

-- vawg_bi_reader and vawg_auditor -----------------------------------------------------------
-- Neither reads anything raw, in transit or set aside; the BI reader not the audit trail, the
-- lineage views or a fact table either. Select on marts and publication relations is dbt's
-- (grants config): a fact table (incremental, never rebuilt) loses a grant given before 012 here.
do $$
declare
    s text;
    obj record;
begin
    for s in
        select nspname from pg_namespace
        where nspname in ('landing', 'quarantine', 'reference', 'staging', 'intermediate')
            or nspname like 'raw\_%'
    loop
        execute format('revoke all on schema %I from vawg_bi_reader, vawg_auditor', s);
        execute format('revoke all on all tables in schema %I from vawg_bi_reader, vawg_auditor', s);
    end loop;
    foreach s in array array['audit', 'lineage'] loop
        execute format('revoke all on schema %I from vawg_bi_reader', s);
        execute format('revoke all on all tables in schema %I from vawg_bi_reader', s);
    end loop;
    for obj in
        select c.oid::regclass as relation
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'marts' and c.relkind in ('r', 'p', 'v', 'm')
            and c.relname not like 'mart\_%' and c.relname not like 'dim\_%'
    loop
        execute format('revoke all on %s from vawg_bi_reader', obj.relation);
    end loop;
end;
$$;
grant usage on schema marts, publication to vawg_bi_reader;
grant usage on schema audit, marts, lineage, publication to vawg_auditor;
grant select on all tables in schema audit to vawg_auditor;
alter default privileges for role vawg_owner in schema audit grant select on tables to vawg_auditor;

comment on schema audit is
    'What arrived, what was checked, what was set aside, and when. Owned by vawg_owner; '
    'vawg_pipeline adds rows, vawg_auditor reads.';
