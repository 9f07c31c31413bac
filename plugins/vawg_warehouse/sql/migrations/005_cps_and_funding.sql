-- 005: raw tables of the CPS quarterly data summary and of the Commissioner's grant register.
-- Columns follow the data contracts (plugins/vawg_warehouse/contracts/cps_quarterly_outcomes.yml and
-- funding_grants.yml) in contract order, then the loader's lineage columns. Neither holds personal data.

create schema if not exists raw_cps;
create schema if not exists raw_funding;

comment on schema raw_cps is 'Published rows of the CPS quarterly data summary files, typed, one row per file row, with its load batch.';
comment on schema raw_funding is 'Published rows of the OPCC grant register snapshots, typed, one row per file row, with its load batch.';

create table raw_cps.quarterly_outcomes (
    financial_year text not null,
    financial_quarter text not null,
    area_name text not null,
    case_category text not null,
    measure text not null,
    volume integer not null,
    published_date date not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index quarterly_outcomes_batch_idx on raw_cps.quarterly_outcomes (_batch_id);
comment on table raw_cps.quarterly_outcomes is
    'Published rows of cps_quarterly_outcomes files (contract: plugins/vawg_warehouse/contracts/cps_quarterly_outcomes.yml): '
    'one row per financial quarter, area, case category and measure per release. A release restates the three '
    'quarters before its own: for each quarter the latest published release wins. '
    '_batch_id points at audit.load_batch; _row_number is the line in the file (header = 1).';
comment on column raw_cps.quarterly_outcomes.volume is 'Suspects (pre-charge measures) or defendants (prosecution measures) counted.';
comment on column raw_cps.quarterly_outcomes.published_date is 'Date the CPS published the release the row comes from.';

create table raw_funding.grants (
    grant_reference text not null,
    funder text not null,
    scheme text not null,
    purpose text,
    financial_year text not null,
    status text not null,
    amount_applied numeric,
    amount_awarded numeric,
    amount_received numeric,
    date_applied date,
    date_awarded date,
    date_received date,
    register_date date not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index grants_batch_idx on raw_funding.grants (_batch_id);
comment on table raw_funding.grants is
    'Published rows of funding_grants files (contract: plugins/vawg_warehouse/contracts/funding_grants.yml): '
    'one row per grant per register snapshot. Every snapshot restates the whole register: for each grant '
    'reference the latest snapshot wins. _batch_id points at audit.load_batch; _row_number is the line in the file.';
comment on column raw_funding.grants.amount_received is 'Total received to date (pounds), never more than amount_awarded.';
comment on column raw_funding.grants.register_date is 'Date of the register snapshot the row comes from.';
