-- 022: every row the pipeline adds to audit goes through a function of the owner.
--
-- 020 took the load batches, their events and the run reports out of the pipeline login's hands.
-- It could still insert any row of the other tables an auditor reads: a validation run that
-- passed for a batch already published, results for a validation run that already has its own,
-- rows set aside for a published batch, a task failure or a run outcome stamped with any time.
-- From here on vawg_pipeline holds no insert on any audit table. It calls
--
--   audit.append_rows(table, rows)   rows (a JSON array of objects) appended to one of the
--                                    tables below, as vawg_owner (SECURITY DEFINER). What the
--                                    server stamps (identity ids, *_at defaulting to the clock)
--                                    is the server's: a row that gives it is refused. Returns the
--                                    new rows' ids (null where the table has no identity).
--
-- with these checks, each raised as insufficient_privilege (the caller was refused):
--   rejected_row       only for a batch that is loaded (or failed while being judged), as
--                      audit.batch_rows_set_aside counts them
--   validation_run     not for a batch already published, superseded or refused (a forged
--                      "passed" for what is already out)
--   validation_result  only for a validation run that has no results yet (a run's results are
--                      written once, with the run)
-- audit.record_dbt_run (dbt's results) runs as the owner too. A later migration that adds an
-- audit table the pipeline writes lists it in audit.appendable_tables() (the owner's default
-- privileges no longer give the pipeline insert on new audit tables). Rows are never updated or deleted
-- by the pipeline: it holds neither privilege, and the append-only triggers of 006 stand.

create function audit.appendable_tables() returns text[]
language sql immutable
set search_path = pg_catalog, pg_temp
as $$
    select array[
        'dbt_group_build', 'pipeline_run', 'publication_audit', 'publication_cell_added',
        'refused_file', 'rejected_row', 'run_outcome', 'source_freshness', 'task_failure',
        'unrecognised_file', 'validation_result', 'validation_run'
    ]
$$;

create function audit.append_rows(p_table text, p_rows jsonb) returns setof bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    relation regclass;
    given text[];
    unknown text[];
    stamped text[];
    identity_column text;
    bad bigint;
begin
    if not p_table = any (audit.appendable_tables()) then
        raise exception 'audit.append_rows: audit.% is not appended to by the pipeline', p_table
            using errcode = 'insufficient_privilege';
    end if;
    if jsonb_typeof(p_rows) is distinct from 'array'
        or exists (
            select from jsonb_array_elements(p_rows) as r (v) where jsonb_typeof(r.v) <> 'object'
        ) then
        raise exception 'audit.append_rows: the rows must be a JSON array of objects'
            using errcode = 'invalid_parameter_value';
    end if;
    if jsonb_array_length(p_rows) = 0 then
        return;
    end if;
    relation := format('audit.%I', p_table)::regclass;

    select array_agg(distinct k order by k) into given
    from jsonb_array_elements(p_rows) as r (v) cross join lateral jsonb_object_keys(r.v) as k;
    select array_agg(k order by k) into unknown
    from unnest(given) as k
    where not exists (
        select from pg_attribute as a
        where a.attrelid = relation and a.attname = k and a.attnum > 0 and not a.attisdropped
    );
    if unknown is not null then
        raise exception 'audit.append_rows: audit.% has no column(s) %', p_table, unknown
            using errcode = 'insufficient_privilege';
    end if;
    -- What the server stamps: identity columns and columns whose default reads the clock.
    select array_agg(a.attname order by a.attname) into stamped
    from pg_attribute as a
    left join pg_attrdef as d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where a.attrelid = relation and a.attnum > 0 and not a.attisdropped
        and a.attname = any (given)
        and (
            a.attidentity <> ''
            or pg_get_expr(d.adbin, d.adrelid) ~ '(clock_timestamp|now|statement_timestamp)\('
        );
    if stamped is not null then
        raise exception 'audit.append_rows: audit.% stamps % itself: not given by the caller',
            p_table, stamped
            using errcode = 'insufficient_privilege';
    end if;

    if p_table = 'rejected_row' then
        select count(*) into bad
        from jsonb_populate_recordset(null::audit.rejected_row, p_rows) as r
        where not exists (
            select from audit.load_batch as b
            where b.batch_id = r.batch_id and b.status in ('loaded', 'failed')
        );
        if bad > 0 then
            raise exception 'audit.rejected_row: rows are set aside only from a batch being '
                'judged (loaded): % row(s) name another', bad
                using errcode = 'insufficient_privilege';
        end if;
    elsif p_table = 'validation_run' then
        select count(*) into bad
        from jsonb_populate_recordset(null::audit.validation_run, p_rows) as r
        where not exists (
            select from audit.load_batch as b
            where b.batch_id = r.batch_id
                and b.status not in ('published', 'superseded', 'refused')
        );
        if bad > 0 then
            raise exception 'audit.validation_run: only a batch being judged (not published, '
                'superseded or refused) is validated: % run(s) name another', bad
                using errcode = 'insufficient_privilege';
        end if;
    elsif p_table = 'validation_result' then
        select count(*) into bad
        from (
            select distinct r.validation_run_id
            from jsonb_populate_recordset(null::audit.validation_result, p_rows) as r
        ) as run
        where not exists (
            select from audit.validation_run as v where v.validation_run_id = run.validation_run_id
        )
            or exists (
                select from audit.validation_result as v
                where v.validation_run_id = run.validation_run_id
            );
        if bad > 0 then
            raise exception 'audit.validation_result: a validation run''s results are written '
                'once, with the run: % run(s) already have theirs or do not exist', bad
                using errcode = 'insufficient_privilege';
        end if;
    end if;

    select a.attname into identity_column
    from pg_attribute as a
    where a.attrelid = relation and a.attidentity <> '' and a.attnum > 0 and not a.attisdropped;
    return query execute format(
        'insert into %s (%s) select %s from jsonb_populate_recordset(null::%s, $1) '
        'on conflict do nothing returning %s',
        relation,
        (select string_agg(format('%I', k), ', ') from unnest(given) as k),
        (select string_agg(format('%I', k), ', ') from unnest(given) as k),
        relation,
        case when identity_column is null then 'null::bigint'
            else format('%I::bigint', identity_column) end
    ) using p_rows;
end;
$$;

comment on function audit.append_rows(text, jsonb) is
    'How vawg_pipeline adds rows to the audit trail (migration 022): append only, what the '
    'server stamps is the server''s, rows set aside and validations only for a batch being '
    'judged, a validation run''s results once.';

revoke all on function audit.appendable_tables() from public;
revoke all on function audit.append_rows(text, jsonb) from public;
grant execute on function audit.append_rows(text, jsonb) to vawg_pipeline;

alter function audit.record_dbt_run(jsonb, text) security definer;
alter function audit.record_dbt_run(jsonb, text) set search_path = pg_catalog, pg_temp;

revoke insert, update, delete, truncate on all tables in schema audit from vawg_pipeline;
alter default privileges for role vawg_owner in schema audit
    revoke insert on tables from vawg_pipeline;
