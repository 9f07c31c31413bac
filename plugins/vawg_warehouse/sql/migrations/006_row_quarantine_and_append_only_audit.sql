-- 006: row-level quarantine, release of quarantined data, and an append-only audit trail.
--
-- A batch that is mostly good keeps its good rows: the rows that broke a critical rule are set
-- aside (quarantine.<dataset>__b<batch>, as loaded) and each (row, rule) pair is recorded in
-- audit.rejected_row; the rest is published. Which datasets allow it is in their contract
-- (row_quarantine). Quarantined data leaves quarantine in one of two ways, both kept in the
-- trail (audit.load_batch_event): a corrected file of the same name supersedes it, or an operator
-- releases it with a reason.

alter table audit.load_batch drop constraint load_batch_status_check;
alter table audit.load_batch add constraint load_batch_status_check check (
    status in ('registered', 'loaded', 'validated', 'published', 'quarantined', 'superseded', 'failed')
);
alter table audit.load_batch
    add column rows_quarantined_published bigint not null default 0,
    add column superseded_by_batch_id bigint references audit.load_batch (batch_id);
comment on column audit.load_batch.rows_rejected is
    'Rows set aside in quarantine (the whole batch, or the rows that broke a critical rule). '
    'rows_read = rows_loaded + rows_rejected once a batch is published or quarantined.';
comment on column audit.load_batch.rows_quarantined_published is
    'Rows an operator released from quarantine into the raw table (audit.load_batch_event has who and why); '
    'they are counted in rows_loaded too.';
comment on column audit.load_batch.superseded_by_batch_id is
    'For a quarantined batch: the later batch of a corrected file of the same name that replaced it.';

create table audit.rejected_row (
    batch_id bigint not null references audit.load_batch (batch_id),
    row_number bigint not null,
    rule text not null,
    expectation_type text not null,
    validation_run_id bigint not null references audit.validation_run (validation_run_id),
    recorded_at timestamptz not null default clock_timestamp(),
    primary key (batch_id, row_number, rule)
);
comment on table audit.rejected_row is
    'Every row set aside by row-level quarantine and every critical rule it broke: the file line '
    '(row_number; header = 1), never a value. The row itself is in quarantine.<dataset>__b<batch_id>.';

-- Append-only: history tables refuse update, delete and truncate for every role, owner included.
-- audit.load_batch is the one current-state table: its rows are never deleted and what
-- identifies a file never changes; each change of status is also an event in load_batch_event.
create function audit.refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception 'audit.% is append-only: % is not allowed', tg_table_name, tg_op
        using errcode = 'insufficient_privilege',
              hint = 'Record a new event instead of changing or removing history.';
end;
$$;
comment on function audit.refuse_change() is
    'Trigger function: refuses update, delete and truncate on the append-only audit tables.';

create function audit.guard_load_batch() returns trigger
language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        raise exception 'audit.load_batch rows are never deleted (batch %)', old.batch_id
            using errcode = 'insufficient_privilege';
    end if;
    if new.batch_id is distinct from old.batch_id
        or new.dataset is distinct from old.dataset
        or new.file_name is distinct from old.file_name
        or new.file_sha256 is distinct from old.file_sha256
        or new.file_size_bytes is distinct from old.file_size_bytes
        or new.registered_at is distinct from old.registered_at then
        raise exception 'audit.load_batch: what identifies a file never changes (batch %)', old.batch_id
            using errcode = 'insufficient_privilege';
    end if;
    return new;
end;
$$;
comment on function audit.guard_load_batch() is
    'Trigger function: a load batch is never deleted and its file identity never changes.';

create trigger load_batch_guard before update or delete on audit.load_batch
    for each row execute function audit.guard_load_batch();
create trigger load_batch_no_truncate before truncate on audit.load_batch
    for each statement execute function audit.refuse_change();

do $$
declare
    history text;
begin
    foreach history in array array[
        'load_batch_event', 'validation_run', 'validation_result', 'pipeline_run',
        'schema_migration', 'rejected_row'
    ] loop
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

grant select on audit.rejected_row to vawg_auditor;
