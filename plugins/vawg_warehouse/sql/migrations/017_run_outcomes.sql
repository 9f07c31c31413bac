-- 016: a run's outcome comes from what happened, not from the files it finished.
--
-- * audit.task_failure: one row each time a task of the nightly DAG fails for good (its failure
--   callback writes it): the task, the try, the error's class and a message with no value in it
--   (vawg_warehouse.run_outcome.safe_message).
-- * audit.run_outcome: what the DAG's last task (trigger rule all_done) found when every other
--   task had ended: success, failed (a task failed: each one named, with its error class and
--   message) or incomplete (no task failed, yet files the run registered were left unfinished).
--   The run report, its index, `vawg status` and the scorecard's header read it.
-- * audit.unrecognised_file: files in the landing folder that match no data contract, per run
--   (vawg_warehouse.landing_check): listed in the run report and `vawg status`, never skipped
--   without a word.
-- * audit.run_report.status: 'incomplete' too.

create table audit.task_failure (
    task_failure_id bigint generated always as identity primary key,
    dag_id text,
    dag_run_id text not null,
    task_id text not null,
    map_index integer not null default -1,
    try_number integer,
    error_class text not null,
    message text not null,
    failed_at timestamptz not null default clock_timestamp()
);
create index task_failure_run_idx on audit.task_failure (dag_run_id, task_failure_id);
comment on table audit.task_failure is
    'One row each time a task of a run failed for good (its on_failure_callback): task, try, '
    'error class and a message with quoted text and database detail removed: never a value.';

create table audit.run_outcome (
    run_outcome_id bigint generated always as identity primary key,
    dag_id text,
    dag_run_id text not null,
    logical_date date,
    state text not null check (state in ('success', 'failed', 'incomplete')),
    failed_tasks jsonb not null default '[]'::jsonb,
    tasks_not_run integer not null default 0,
    unfinished_files integer not null default 0,
    recorded_at timestamptz not null default clock_timestamp()
);
create index run_outcome_run_idx on audit.run_outcome (dag_run_id, run_outcome_id);
comment on table audit.run_outcome is
    'A run''s outcome, recorded by its last task once every other task had ended: success, failed '
    '(failed_tasks: task_id, error_class, message of each task that failed) or incomplete (files '
    'it registered left unfinished). The newest row of a run is current.';

create table audit.unrecognised_file (
    unrecognised_file_id bigint generated always as identity primary key,
    dag_run_id text,
    file_name text not null,
    seen_at timestamptz not null default clock_timestamp(),
    unique (dag_run_id, file_name)
);
comment on table audit.unrecognised_file is
    'Files found in the landing folder that match no data contract, once per run (escaped path '
    'below the landing folder). They are not read; someone should move or rename them.';

create trigger unrecognised_file_append_only before update or delete on audit.unrecognised_file
    for each row execute function audit.refuse_change();
create trigger task_failure_append_only before update or delete on audit.task_failure
    for each row execute function audit.refuse_change();
create trigger task_failure_no_truncate before truncate on audit.task_failure
    for each statement execute function audit.refuse_change();
create trigger run_outcome_append_only before update or delete on audit.run_outcome
    for each row execute function audit.refuse_change();
create trigger run_outcome_no_truncate before truncate on audit.run_outcome
    for each statement execute function audit.refuse_change();

grant select, insert on audit.task_failure, audit.run_outcome, audit.unrecognised_file
    to vawg_pipeline;
grant select on audit.task_failure, audit.run_outcome, audit.unrecognised_file to vawg_auditor;

alter table audit.run_report drop constraint run_report_status_check;
alter table audit.run_report add constraint run_report_status_check
    check (status in ('ok', 'warnings', 'quarantined', 'incomplete', 'failed'));
