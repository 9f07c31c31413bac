-- 021: what BI tools may read is checked, and put right, by the owner after every dbt build.
--
-- vawg_pipeline owns what dbt builds, so it can grant vawg_bi_reader select on a fact table
-- (victim pseudonyms) or create a view in schema bi over one; until now only a test guarded
-- that. audit.secure_bi_grants() runs as vawg_owner (SECURITY DEFINER; the owner is a member of
-- vawg_pipeline, so it may revoke on what the pipeline owns) and takes away from vawg_bi_reader
-- and from PUBLIC:
--   * any privilege on a relation outside schema bi;
--   * usage on any schema but bi;
--   * select on a view of bi that reads a relation BI tools must never see: raw_*, landing,
--     quarantine, staging, intermediate, audit, lineage, asof_* or a fact table (marts.fct_*);
--     but staging.stg_audit__* (the audit trail's staging views: files, runs and builds, no
--     person), which bi.data_as_of reads to say how far the data go.
-- It returns one row per privilege taken away; dbt_run.transform fails the build when any is.

create function audit.secure_bi_grants()
returns table (relation text, privilege text, reason text)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    reader oid := 'vawg_bi_reader'::regrole;
    found_grant record;
begin
    for found_grant in
        select distinct c.oid::regclass::text as name, acl.privilege_type, acl.grantee
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        cross join lateral aclexplode(c.relacl) as acl
        where acl.grantee in (reader, 0)
            and n.nspname <> 'bi'
            and n.nspname not like 'pg\_%' and n.nspname <> 'information_schema'
            and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
    loop
        execute format(
            'revoke all on %s from %s', found_grant.name,
            case when found_grant.grantee = 0 then 'public' else 'vawg_bi_reader' end
        );
        relation := found_grant.name;
        privilege := lower(found_grant.privilege_type);
        reason := 'outside schema bi';
        return next;
    end loop;

    for found_grant in
        select n.nspname as name, acl.grantee
        from pg_namespace as n
        cross join lateral aclexplode(n.nspacl) as acl
        where acl.grantee in (reader, 0) and acl.privilege_type = 'USAGE'
            and n.nspname not in ('bi', 'public', 'information_schema')
            and n.nspname not like 'pg\_%'
    loop
        execute format(
            'revoke all on schema %I from %s', found_grant.name,
            case when found_grant.grantee = 0 then 'public' else 'vawg_bi_reader' end
        );
        relation := found_grant.name;
        privilege := 'usage';
        reason := 'a schema other than bi';
        return next;
    end loop;

    for found_grant in
        select distinct v.oid::regclass::text as name, used.oid::regclass::text as reads
        from pg_class as v
        join pg_namespace as vn on vn.oid = v.relnamespace
        join pg_rewrite as rw on rw.ev_class = v.oid
        join pg_depend as d on d.classid = 'pg_rewrite'::regclass and d.objid = rw.oid
        join pg_class as used on used.oid = d.refobjid and used.oid <> v.oid
        join pg_namespace as un on un.oid = used.relnamespace
        where vn.nspname = 'bi'
            and has_table_privilege(reader, v.oid, 'select')
            and not (un.nspname = 'staging' and used.relname like 'stg\_audit\_\_%')
            and (
                un.nspname in (
                    'landing', 'quarantine', 'staging', 'intermediate', 'audit', 'lineage'
                )
                or un.nspname like 'raw\_%'
                or un.nspname like 'asof\_%'
                or (un.nspname = 'marts' and used.relname like 'fct\_%')
            )
    loop
        execute format('revoke all on %s from vawg_bi_reader, public', found_grant.name);
        relation := found_grant.name;
        privilege := 'select';
        reason := 'reads ' || found_grant.reads;
        return next;
    end loop;
end;
$$;
comment on function audit.secure_bi_grants() is
    'Run by the pipeline after each dbt build, as vawg_owner: takes away from vawg_bi_reader (and '
    'PUBLIC) what it may not read, and returns each privilege taken away (migration 021).';
revoke all on function audit.secure_bi_grants() from public;
grant execute on function audit.secure_bi_grants() to vawg_pipeline;
