-- 009: raw tables of public open data: data.police.uk monthly archive files (street crimes and
-- outcomes) and the Home Office police recorded crime open data table by force area. Columns
-- follow the data contracts (plugins/vawg_warehouse/contracts/public_*.yml) in contract order,
-- then the loader's lineage columns. Public data: no personal data. Every release is kept (a
-- re-published month is a new batch); the models pick the latest release per force and month.

create schema if not exists raw_public;

comment on schema raw_public is 'Published rows of public open data files (data.police.uk archives, Home Office open data tables), typed, one row per file row, with its load batch.';

create table raw_public.policeuk_street_crimes (
    crime_id text,
    month text not null,
    reported_by text not null,
    falls_within text not null,
    longitude numeric,
    latitude numeric,
    location text,
    lsoa_code text,
    lsoa_name text,
    crime_type text not null,
    last_outcome_category text,
    context text,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index policeuk_street_crimes_batch_idx on raw_public.policeuk_street_crimes (_batch_id);
comment on table raw_public.policeuk_street_crimes is
    'Published rows of data.police.uk YYYY-MM-<force>-street.csv files (contract: plugins/vawg_warehouse/contracts/public_policeuk_street_crimes.yml): '
    'one row per file row of every release; the force is in the file name (audit.load_batch.file_name). '
    '_batch_id points at audit.load_batch; _row_number is the line in the file (header = 1).';

create table raw_public.policeuk_outcomes (
    crime_id text not null,
    month text not null,
    reported_by text not null,
    falls_within text not null,
    longitude numeric,
    latitude numeric,
    location text,
    lsoa_code text,
    lsoa_name text,
    outcome_type text not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index policeuk_outcomes_batch_idx on raw_public.policeuk_outcomes (_batch_id);
comment on table raw_public.policeuk_outcomes is
    'Published rows of data.police.uk YYYY-MM-<force>-outcomes.csv files (contract: plugins/vawg_warehouse/contracts/public_policeuk_outcomes.yml): '
    'one row per outcome per release; month is the month of the outcome, the crime may be of an earlier month.';

create table raw_public.home_office_recorded_crime (
    financial_year text not null,
    financial_quarter text not null,
    force_name text not null,
    offence_description text not null,
    offence_group text,
    offence_subgroup text,
    offence_code text not null,
    number_of_offences text not null,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index home_office_recorded_crime_batch_idx on raw_public.home_office_recorded_crime (_batch_id);
comment on table raw_public.home_office_recorded_crime is
    'Published rows of Home Office police recorded crime open data tables by force area (contract: plugins/vawg_warehouse/contracts/public_home_office_recorded_crime.yml). '
    'number_of_offences is kept as exported (space-padded, -00, negative adjustments) and cast in staging.';
