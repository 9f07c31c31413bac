-- 003: raw tables of two more force extracts: cases heard at MARAC and protective order events.
-- Contracts: plugins/vawg_warehouse/contracts/force_marac_cases.yml, force_protective_orders.yml.
-- Columns in contract order with the contract's types (flag -> boolean, timestamp -> timestamptz),
-- NOT NULL where the contract requires a value, then the loader's lineage columns.

create schema if not exists raw_force;

create table raw_force.marac_cases (
    case_reference text not null,
    date_heard date not null,
    date_referred date not null,
    victim_pseudonym text not null,
    perpetrator_pseudonym text,
    referring_agency text not null,
    local_authority_code text not null,
    risk_basis text not null,
    extracted_at timestamptz not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index marac_cases_batch_idx on raw_force.marac_cases (_batch_id);
comment on table raw_force.marac_cases is
    'Published rows of force_marac_cases files, one file per MARAC meeting day '
    '(contract: plugins/vawg_warehouse/contracts/force_marac_cases.yml). One row per case heard per '
    'load batch. _batch_id points at audit.load_batch; _row_number is the line in the file (header = 1).';
comment on column raw_force.marac_cases.case_reference is
    'MARAC case reference of the referral (a victim referred again gets a new one).';
comment on column raw_force.marac_cases.date_referred is
    'Date the case was referred; the repeat definition (seed marac_measure_parameters) compares these.';
comment on column raw_force.marac_cases.victim_pseudonym is
    'Keyed HMAC-SHA256 of the victim''s force person identifier (never the identifier).';
comment on column raw_force.marac_cases.perpetrator_pseudonym is
    'Keyed HMAC-SHA256 of the perpetrator''s force person identifier; null when not known.';

create table raw_force.protective_order_events (
    order_reference text not null,
    event_sequence integer not null,
    order_type text not null,
    event_type text not null,
    event_date date not null,
    crime_reference text,
    local_authority_code text not null,
    victim_pseudonym text,
    perpetrator_pseudonym text not null,
    extracted_at timestamptz not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index protective_order_events_batch_idx on raw_force.protective_order_events (_batch_id);
comment on table raw_force.protective_order_events is
    'Published rows of force_protective_orders files: order events (notice issued, applied, granted, '
    'refused, withdrawn, breached), one row per event per load batch '
    '(contract: plugins/vawg_warehouse/contracts/force_protective_orders.yml).';
comment on column raw_force.protective_order_events.order_reference is
    'The protective-order case: a notice and the order applied for after it share the reference.';
comment on column raw_force.protective_order_events.victim_pseudonym is
    'Keyed HMAC-SHA256 of the protected person''s identifier; null when the order protects the public at large.';
comment on column raw_force.protective_order_events.perpetrator_pseudonym is
    'Keyed HMAC-SHA256 of the identifier of the person the order is made against.';
