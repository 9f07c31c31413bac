-- 018: a crime's record status (force_crimes.record_status: active, or removed under the Home
-- Office Counting Rules: transferred, cancelled as no crime ...). Files may leave the column out
-- (read as empty: the crime stands). Runs as vawg_owner (migrations.py).
alter table raw_force.crimes add column if not exists record_status text;
comment on column raw_force.crimes.record_status is
    'Whether the crime stands (active, or empty) or was removed (seed crime_record_statuses, '
    'is_withdrawn): a removed crime leaves the facts and the marts; its rows stay here.';

-- The data.police.uk release a file came from (vawg_warehouse/releases.py): for the same force
-- and month the newer release wins, whatever order the files were registered in.
alter table audit.load_batch add column if not exists source_release_date date;
alter table audit.load_batch add column if not exists source_release text;
comment on column audit.load_batch.source_release_date is
    'police.uk files: the day the release the file came from was published or downloaded (a '
    'release.yml manifest, or the archive''s folder name); null when unknown.';
comment on column audit.load_batch.source_release is
    'police.uk files: where source_release_date was read (manifest <path>, folder <name>, api '
    '...), or unknown.';
