-- The publication audit (vawg_warehouse.dbt_run.publication_audit, docs/measures.md "Publication"): after
-- the force group's dbt build, every suppressed cell of schema publication is bounded by integer
-- programming against everything published; secondary suppression goes on until each interval
-- is at least the protection interval wide. Each audit is a row of audit.publication_audit
-- (counts only: never a value or a bound, which could give a cell away). When it settles on
-- cells to suppress beyond the primary ones, they are rows of audit.publication_cell_added, and
-- the suppression models read the newest decision's cells. Cells are named by their model,
-- component and cell (month, category or order type, area, column), never by value.
-- Append-only like the other history.

create table audit.publication_audit (
    audit_id bigint generated always as identity primary key,
    audited_at timestamptz not null default clock_timestamp(),
    suppressed_cells integer not null,
    unprotected_cells integer not null,
    recovered_cells integer not null,
    protection_interval integer not null,
    problems integer not null,
    programs integer not null,
    seconds numeric not null,
    -- true: this audit settled the cells to suppress (rows of publication_cell_added, maybe
    -- none) and the models were rebuilt with them; false: a check of the tables as built.
    is_decision boolean not null,
    added_cells integer
);
comment on table audit.publication_audit is
    'One row per audit of schema publication: suppressed cells, those whose interval is narrower '
    'than the protection interval, those worked out exactly, and whether it decided new cells.';

create table audit.publication_cell_added (
    audit_id bigint not null references audit.publication_audit (audit_id),
    suppression_model text not null,
    component text not null,
    cell text not null,
    primary key (audit_id, suppression_model, component, cell)
);
comment on table audit.publication_cell_added is
    'Cells of schema publication suppressed beyond the primary ones by an audit decision (the '
    'fixed point and the cells that protect an interval); the suppression models read the newest.';

do $$
begin
    if to_regprocedure('audit.refuse_change()') is null then
        return;
    end if;
    create trigger publication_audit_append_only before update or delete
        on audit.publication_audit for each row execute function audit.refuse_change();
    create trigger publication_audit_no_truncate before truncate on audit.publication_audit
        for each statement execute function audit.refuse_change();
    create trigger publication_cell_added_append_only before update or delete
        on audit.publication_cell_added for each row execute function audit.refuse_change();
    create trigger publication_cell_added_no_truncate before truncate
        on audit.publication_cell_added for each statement execute function audit.refuse_change();
end;
$$;

grant select on audit.publication_audit, audit.publication_cell_added to vawg_auditor;
