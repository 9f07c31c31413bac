-- 004: raw tables of the force's Victims' Code compliance records (plan measure 4) and of the
-- commissioned services' quarterly monitoring returns. Columns follow the data contracts
-- (plugins/vawg_warehouse/contracts/force_victims_code.yml, services_quarterly_returns.yml) in
-- their order, then each row's load batch, line (or worksheet row) and publication time.
--
--   raw_services   published, typed rows of the commissioned services' returns (counts only)

create schema if not exists raw_services;
comment on schema raw_services is
    'Published rows of the commissioned services'' quarterly returns, typed, one row per worksheet row, with its load batch.';

create table raw_force.victims_code (
    record_id text not null,
    crime_reference text not null,
    victim_pseudonym text not null,
    right_number integer not null,
    status text not null,
    date_due date not null,
    date_completed date,
    recorded_by_unit text not null,
    extracted_at timestamptz not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index victims_code_batch_idx on raw_force.victims_code (_batch_id);
comment on table raw_force.victims_code is
    'Published rows of force_victims_code files (contract: plugins/vawg_warehouse/contracts/force_victims_code.yml): '
    'one Victims'' Code right for one victim of one crime, met / not_met / not_applicable. '
    '_batch_id points at audit.load_batch; _row_number is the line in the file (header = 1).';
comment on column raw_force.victims_code.victim_pseudonym is
    'Keyed HMAC-SHA256 of the force''s victim identifier (never the identifier itself).';

create table raw_services.quarterly_returns (
    service_code text not null,
    financial_year text not null,
    financial_quarter text not null,
    local_authority_code text not null,
    referrals_received integer not null,
    clients_engaged integer not null,
    cases_closed integer not null,
    cases_closed_positive integer not null,
    submitted_date date not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index quarterly_returns_batch_idx on raw_services.quarterly_returns (_batch_id);
comment on table raw_services.quarterly_returns is
    'Published rows of services_quarterly_returns workbooks (contract: plugins/vawg_warehouse/contracts/services_quarterly_returns.yml, worksheet Return): '
    'one service x financial quarter x area (local authority, or E23000003 county-wide). '
    '_batch_id points at audit.load_batch; _row_number is the worksheet row (header = 1).';
