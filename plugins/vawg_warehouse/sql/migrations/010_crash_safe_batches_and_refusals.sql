-- 010: batches that survive a crash, and every file the loader refuses, on record.
--
-- * Landing and quarantine tables were UNLOGGED: a database crash emptied them, silently, between
--   load, validate and publish. The loader now creates them logged; this makes those that exist
--   logged too.
-- * A batch whose file cannot be taken in at all (its landing file vanished or was rewritten
--   after registration and no verified archive copy exists) ends as 'refused', with an event.
-- * audit.refused_file: entries of a landing folder that are never read because of what they are
--   (a symbolic link) or what they are called (control characters, quotes, '..'): named, escaped,
--   with the rule, never opened.

alter table audit.load_batch drop constraint load_batch_status_check;
alter table audit.load_batch add constraint load_batch_status_check check (
    status in (
        'registered', 'loaded', 'validated', 'published', 'quarantined', 'superseded', 'failed',
        'refused'
    )
);
comment on column audit.load_batch.status is
    'registered, loaded, validated, published; quarantined (set aside whole), superseded (a '
    'corrected file replaced it), failed (an error of ours or of the database: retried), refused '
    '(the file could not be taken in: nothing was loaded). audit.load_batch_event has each change.';

create table audit.refused_file (
    refusal_id bigint generated always as identity primary key,
    dataset text not null,
    file_name text not null,
    rule text not null,
    message text not null,
    dag_run_id text,
    first_seen_at timestamptz not null default clock_timestamp(),
    unique (dataset, file_name, rule)
);
comment on table audit.refused_file is
    'Entries of a dataset''s landing folder the loader refused without reading them (a symbolic '
    'link, a name with control characters, quotes or ..). file_name is escaped (\n, \x01 ...). '
    'Recorded once per name and rule; the loader logs them on every run while they stay.';

create trigger refused_file_append_only before update or delete on audit.refused_file
    for each row execute function audit.refuse_change();
create trigger refused_file_no_truncate before truncate on audit.refused_file
    for each statement execute function audit.refuse_change();
grant select on audit.refused_file to vawg_auditor;

do $$
declare
    held record;
begin
    for held in
        select n.nspname, c.relname
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname in ('landing', 'quarantine') and c.relkind = 'r'
          and c.relpersistence = 'u'
    loop
        execute format('alter table %I.%I set logged', held.nspname, held.relname);
    end loop;
end;
$$;

comment on schema landing is
    'Load batches while they are validated: one table per batch, all text, logged (crash-safe).';
