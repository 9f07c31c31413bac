-- 020: the pipeline's login appends to the ledger only through functions of the owner.
--
-- Until now vawg_pipeline could insert and update audit.load_batch and insert any
-- audit.load_batch_event or audit.run_report: it could set a batch's counts (rows_read = 12345),
-- move it back (published -> registered) or add a newer run report with its own figures, which
-- then became the run's current report. From here on it holds no insert or update on those three
-- tables; it calls these functions, owned by vawg_owner and run with its rights (SECURITY
-- DEFINER, a fixed search_path):
--
--   audit.register_batch        a new file's batch (an id is taken only for a file not yet
--                               registered) and its 'registered' event
--   audit.batch_transition      a status change along the allowed transitions, with its event;
--                               rows_read is checked against the batch's landing table, and
--                               rows_loaded / rows_rejected are worked out from the ledger
--   audit.batch_rows_set_aside  rows_rejected = the rows audit.rejected_row holds for the batch
--   audit.release_rows          a quarantined batch's held rows published (counted in the table)
--   audit.supersede_earlier     forerunners of a corrected file, and a restated file's batches
--   audit.set_archive_path      once, for a batch registered before the archive existed
--   audit.append_batch_event    any other event of a batch's life; never one named as a status
--   audit.append_run_report     a run's report, refused when its headline figures are not the
--                               ledger's for that run
--
-- Errors are raised as insufficient_privilege: the caller was refused.

create function audit._batch_event(
    p_batch_id bigint, p_status text, p_detail jsonb, p_dag_run_id text
) returns void
language sql
security definer
set search_path = pg_catalog, pg_temp
as $$
    insert into audit.load_batch_event (batch_id, status, detail, dag_run_id)
    values (p_batch_id, p_status, coalesce(p_detail, '{}'::jsonb), p_dag_run_id);
$$;

-- The rows of a batch's table (landing or quarantine), counted by the owner. The pipeline's
-- tables belong to vawg_pipeline (the loader acts as it), whose member vawg_owner reads them; a
-- table the owner cannot read is refused, unless the login is a superuser (who could write the
-- ledger directly anyway), whose count is taken as given.
create function audit._rows_of(p_schema text, p_table text, p_given bigint) returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    relation regclass := to_regclass(format('%I.%I', p_schema, p_table));
    counted bigint;
begin
    if relation is not null and has_table_privilege(relation, 'select') then
        execute format('select count(*) from %s', relation) into counted;
        return counted;
    end if;
    if (select rolsuper from pg_roles where rolname = session_user) then
        return p_given;
    end if;
    raise exception 'audit.load_batch: %.% is not a table of vawg_pipeline: its rows cannot be '
        'counted', p_schema, p_table
        using errcode = 'insufficient_privilege';
end;
$$;

create function audit.register_batch(
    p_dataset text,
    p_file_name text,
    p_file_sha256 text,
    p_file_size_bytes bigint,
    p_dag_id text,
    p_dag_run_id text,
    p_logical_date date,
    p_archive_path text,
    p_source_release_date date,
    p_source_release text,
    p_detail jsonb
) returns table (batch_id bigint, status text, file_name text, is_new boolean)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    found_batch audit.load_batch%rowtype;
begin
    -- Look first: `insert ... on conflict do nothing` takes an identity value even when the
    -- file is already there (each registration used as many ids as files surveyed).
    select * into found_batch from audit.load_batch as b
    where b.dataset = p_dataset and b.file_sha256 = p_file_sha256;
    if not found then
        insert into audit.load_batch as b
            (dataset, file_name, file_sha256, file_size_bytes, dag_id, dag_run_id,
             logical_date, archive_path, source_release_date, source_release)
        values
            (p_dataset, p_file_name, p_file_sha256, p_file_size_bytes, p_dag_id, p_dag_run_id,
             p_logical_date, p_archive_path, p_source_release_date, p_source_release)
        on conflict (dataset, file_sha256) do nothing
        returning * into found_batch;
        if found then
            perform audit._batch_event(found_batch.batch_id, 'registered', p_detail, p_dag_run_id);
            return query select found_batch.batch_id, found_batch.status, found_batch.file_name, true;
            return;
        end if;
        -- registered by another session at the same moment
        select * into found_batch from audit.load_batch as b
        where b.dataset = p_dataset and b.file_sha256 = p_file_sha256;
    end if;
    return query select found_batch.batch_id, found_batch.status, found_batch.file_name, false;
end;
$$;

create function audit.set_archive_path(
    p_batch_id bigint, p_archive_path text, p_dag_run_id text
) returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    update audit.load_batch set archive_path = p_archive_path
    where batch_id = p_batch_id and archive_path is null;
    if not found then
        return false;
    end if;
    perform audit._batch_event(
        p_batch_id, 'archived', jsonb_build_object('archive_path', p_archive_path), p_dag_run_id
    );
    return true;
end;
$$;

-- Statuses of audit.load_batch: an event of one of these names is written by the change only.
create function audit.batch_statuses() returns text[]
language sql immutable
set search_path = pg_catalog, pg_temp
as $$
    select array[
        'registered', 'loaded', 'validated', 'published', 'quarantined', 'superseded', 'failed',
        'refused', 'released', 'rows_quarantined', 'archived', 'corrected'
    ]
$$;

create function audit.append_batch_event(
    p_batch_id bigint, p_status text, p_detail jsonb, p_dag_run_id text
) returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_status = any (audit.batch_statuses()) then
        raise exception 'audit.append_batch_event: "%" is written by the change it records, '
            'not on its own (batch %)', p_status, p_batch_id
            using errcode = 'insufficient_privilege';
    end if;
    perform audit._batch_event(p_batch_id, p_status, p_detail, p_dag_run_id);
end;
$$;

create function audit.batch_transition(
    p_batch_id bigint,
    p_status text,
    p_detail jsonb,
    p_dag_run_id text,
    p_error text default null,
    p_rows_read bigint default null
) returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    batch audit.load_batch%rowtype;
    unfinished constant text[] := array['registered', 'loaded', 'validated', 'failed', 'refused'];
    counted bigint;
begin
    select * into batch from audit.load_batch where batch_id = p_batch_id for update;
    if not found then
        raise exception 'no load batch %', p_batch_id using errcode = 'insufficient_privilege';
    end if;
    if p_status = 'failed' and not batch.status = any (unfinished) then
        -- a step failed after the batch had finished: on record, the batch unchanged
        perform audit._batch_event(
            p_batch_id, p_status,
            jsonb_build_object('error', left(p_error, 2000)) || coalesce(p_detail, '{}'::jsonb),
            p_dag_run_id
        );
        return false;
    end if;
    if not batch.status = any (unfinished)
        or p_status not in ('loaded', 'validated', 'failed', 'refused', 'quarantined', 'published')
        or (p_status = 'published' and batch.status not in ('validated', 'failed'))
        or (p_status = 'validated' and batch.status not in ('loaded', 'validated', 'failed')) then
        raise exception 'audit.load_batch: batch % may not go from % to %',
            p_batch_id, batch.status, p_status
            using errcode = 'insufficient_privilege';
    end if;

    if p_status = 'loaded' then
        -- rows_read is the rows of the batch's landing table, as loaded
        counted := audit._rows_of('landing', batch.dataset || '__b' || p_batch_id, p_rows_read);
        if p_rows_read is distinct from counted then
            raise exception 'audit.load_batch: batch % read % rows, its landing table holds %',
                p_batch_id, p_rows_read, counted
                using errcode = 'insufficient_privilege';
        end if;
        update audit.load_batch
        set status = 'loaded', rows_read = counted, rows_loaded = null, rows_rejected = null,
            loaded_at = clock_timestamp(), error_message = null
        where batch_id = p_batch_id;
        p_detail := jsonb_build_object('rows_read', counted) || coalesce(p_detail, '{}'::jsonb);
    elsif p_status = 'validated' then
        update audit.load_batch set status = 'validated', validated_at = clock_timestamp()
        where batch_id = p_batch_id;
    elsif p_status in ('failed', 'refused') then
        update audit.load_batch set status = p_status, error_message = left(p_error, 2000)
        where batch_id = p_batch_id;
        if p_status = 'failed' then
            p_detail := jsonb_build_object('error', left(p_error, 2000))
                || coalesce(p_detail, '{}'::jsonb);
        end if;
    elsif p_status = 'quarantined' then
        -- nothing published; what was read is set aside whole (nothing when it could not be read)
        update audit.load_batch
        set status = 'quarantined', rows_loaded = 0, rows_rejected = rows_read,
            error_message = p_error, validated_at = clock_timestamp()
        where batch_id = p_batch_id;
    elsif p_status = 'published' then
        if batch.rows_read is null then
            raise exception 'audit.load_batch: batch % was never loaded', p_batch_id
                using errcode = 'insufficient_privilege';
        end if;
        update audit.load_batch
        set status = 'published',
            rows_rejected = coalesce(rows_rejected, 0),
            rows_loaded = rows_read - coalesce(rows_rejected, 0),
            published_at = clock_timestamp()
        where batch_id = p_batch_id
        returning rows_loaded into counted;
        p_detail := jsonb_build_object('rows_loaded', counted) || coalesce(p_detail, '{}'::jsonb);
    end if;
    perform audit._batch_event(p_batch_id, p_status, p_detail, p_dag_run_id);
    return true;
end;
$$;

create function audit.batch_rows_set_aside(
    p_batch_id bigint, p_detail jsonb, p_dag_run_id text
) returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    set_aside bigint;
begin
    if not exists (
        select from audit.load_batch where batch_id = p_batch_id and status in ('loaded', 'failed')
    ) then
        raise exception 'audit.load_batch: batch % is not loaded: no rows to set aside', p_batch_id
            using errcode = 'insufficient_privilege';
    end if;
    select count(distinct row_number) into set_aside
    from audit.rejected_row where batch_id = p_batch_id;
    update audit.load_batch set rows_rejected = set_aside where batch_id = p_batch_id;
    perform audit._batch_event(
        p_batch_id, 'rows_quarantined',
        jsonb_build_object('rows', set_aside) || coalesce(p_detail, '{}'::jsonb) - 'rows',
        p_dag_run_id
    );
    return set_aside;
end;
$$;

create function audit.release_rows(
    p_batch_id bigint, p_detail jsonb, p_dag_run_id text, p_released bigint
) returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    batch audit.load_batch%rowtype;
    released bigint;
begin
    select * into batch from audit.load_batch where batch_id = p_batch_id for update;
    if not found or batch.status not in ('quarantined', 'published')
        or batch.superseded_by_batch_id is not null then
        raise exception 'audit.load_batch: batch % has nothing in quarantine to release',
            p_batch_id using errcode = 'insufficient_privilege';
    end if;
    -- the held rows, moved aside under this name once published (quarantine.release_rows)
    released := audit._rows_of(
        'quarantine', batch.dataset || '__b' || p_batch_id || '__released', p_released
    );
    if released > coalesce(batch.rows_rejected, 0) then
        raise exception 'audit.load_batch: batch % releases % rows of % set aside',
            p_batch_id, released, coalesce(batch.rows_rejected, 0)
            using errcode = 'insufficient_privilege';
    end if;
    update audit.load_batch
    set status = 'published',
        rows_loaded = coalesce(rows_loaded, 0) + released,
        rows_rejected = rows_rejected - released,
        rows_quarantined_published = rows_quarantined_published + released,
        published_at = coalesce(published_at, clock_timestamp())
    where batch_id = p_batch_id;
    perform audit._batch_event(
        p_batch_id, 'released',
        jsonb_build_object('rows', released) || (coalesce(p_detail, '{}'::jsonb) - 'rows'),
        p_dag_run_id
    );
    return released;
end;
$$;

-- A corrected file (same dataset and name, a newer batch that is published) releases what its
-- forerunners left in quarantine (p_restated false: quarantined ones become superseded,
-- published ones with rows set aside are marked corrected), or, for a file that restates the
-- whole of what it covers (p_restated true), supersedes the earlier published batches given.
create function audit.supersede_earlier(
    p_batch_id bigint,
    p_restated boolean,
    p_standing bigint[],
    p_detail jsonb,
    p_dag_run_id text
) returns table (batch_id bigint, status text)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    newer audit.load_batch%rowtype;
    earlier record;
begin
    select * into newer from audit.load_batch as b where b.batch_id = p_batch_id;
    if not found or newer.status <> 'published' then
        raise exception 'audit.load_batch: batch % is not published: it supersedes nothing',
            p_batch_id using errcode = 'insufficient_privilege';
    end if;
    if p_restated then
        for earlier in
            update audit.load_batch as b
            set status = 'superseded', superseded_by_batch_id = p_batch_id
            where b.batch_id = any (p_standing) and b.dataset = newer.dataset
                and b.file_name = newer.file_name and b.batch_id < p_batch_id
                and b.status = 'published'
            returning b.batch_id, b.status
        loop
            perform audit._batch_event(
                earlier.batch_id, 'superseded',
                jsonb_build_object('by_batch_id', p_batch_id) || coalesce(p_detail, '{}'::jsonb),
                p_dag_run_id
            );
            return query select earlier.batch_id, earlier.status;
        end loop;
        return;
    end if;
    for earlier in
        update audit.load_batch as b
        set status = case when b.status = 'quarantined' then 'superseded' else b.status end,
            superseded_by_batch_id = p_batch_id
        where b.dataset = newer.dataset and b.file_name = newer.file_name
            and b.batch_id < p_batch_id and b.superseded_by_batch_id is null
            and (b.status = 'quarantined' or (b.status = 'published' and b.rows_rejected > 0))
        returning b.batch_id, b.status
    loop
        perform audit._batch_event(
            earlier.batch_id,
            case when earlier.status = 'superseded' then 'superseded' else 'corrected' end,
            jsonb_build_object('by_batch_id', p_batch_id) || coalesce(p_detail, '{}'::jsonb),
            p_dag_run_id
        );
        return query select earlier.batch_id, earlier.status;
    end loop;
end;
$$;

-- The headline figures a report shows that the ledger holds: the batches the run touched.
create function audit.ledger_figures_of_run(p_dag_run_id text) returns jsonb
language sql stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select jsonb_build_object(
        'files', count(*),
        'rows_read', coalesce(sum(coalesce(b.rows_read, 0)), 0),
        'rows_loaded', coalesce(sum(coalesce(b.rows_loaded, 0)), 0),
        'rows_set_aside', coalesce(sum(coalesce(b.rows_rejected, 0)), 0),
        'files_quarantined', count(*) filter (where b.status = 'quarantined')
    )
    from audit.load_batch as b
    where b.batch_id in (
        select e.batch_id from audit.load_batch_event as e where e.dag_run_id = p_dag_run_id
    )
$$;

create function audit.append_run_report(
    p_dag_id text,
    p_dag_run_id text,
    p_logical_date date,
    p_status text,
    p_figures jsonb,
    p_html text
) returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    ledger jsonb := audit.ledger_figures_of_run(p_dag_run_id);
    figure text;
    made bigint;
begin
    for figure in select jsonb_object_keys(ledger) loop
        if p_figures -> figure is distinct from ledger -> figure then
            raise exception 'audit.run_report: the figures of run % are not the ledger''s '
                '(%: % given, % in audit.load_batch)',
                p_dag_run_id, figure, p_figures -> figure, ledger -> figure
                using errcode = 'insufficient_privilege';
        end if;
    end loop;
    insert into audit.run_report (dag_id, dag_run_id, logical_date, status, figures, html)
    values (p_dag_id, p_dag_run_id, p_logical_date, p_status, p_figures, p_html)
    returning report_id into made;
    return made;
end;
$$;

revoke insert, update on audit.load_batch from vawg_pipeline;
revoke insert on audit.load_batch_event, audit.run_report from vawg_pipeline;
do $$
declare
    routine regprocedure;
begin
    for routine in
        select p.oid::regprocedure from pg_proc as p
        where p.pronamespace = 'audit'::regnamespace
            and p.proname in (
                '_batch_event', '_rows_of', 'register_batch', 'set_archive_path', 'batch_statuses',
                'append_batch_event', 'batch_transition', 'batch_rows_set_aside', 'release_rows',
                'supersede_earlier', 'ledger_figures_of_run', 'append_run_report'
            )
    loop
        execute format('revoke all on function %s from public', routine);
        if routine::text not like 'audit.\_%' then
            execute format('grant execute on function %s to vawg_pipeline', routine);
        end if;
    end loop;
end;
$$;
grant execute on function audit.ledger_figures_of_run(text) to vawg_auditor;
