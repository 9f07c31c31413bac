-- 016: raw tables of the ONS population estimates, loaded like every other source (contracts
-- public_ons_mid_year_estimates and public_nomis_population_estimates). Runs as vawg_owner
-- (migrations.py): the default privileges of schema raw_public (012) give vawg_pipeline select,
-- insert and delete. Both keep the publication's figures as text, one row per cell of the wide
-- table (the readers in vawg_warehouse/ingest/ons_readers.py); staging casts them.

create table raw_public.ons_mid_year_estimates (
    reference_year text not null,
    sex text not null,
    area_code text not null,
    area_name text not null,
    geography text,
    age text not null,
    population text,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index ons_mid_year_estimates_batch_idx on raw_public.ons_mid_year_estimates (_batch_id);
comment on table raw_public.ons_mid_year_estimates is
    'Published rows of ONS mid-year population estimates workbooks, MYE2 sheets (contract: '
    'plugins/vawg_warehouse/contracts/public_ons_mid_year_estimates.yml): one row per area, sheet '
    '(persons, females, males) and age column of a reference year; _row_number is the sheet''s '
    'position x 1,000,000 + its row.';

create table raw_public.nomis_population_estimates (
    reference_year text not null,
    sex text not null,
    area_name text not null,
    area_code text not null,
    measure text not null,
    population text,
    _batch_id bigint not null,
    _row_number bigint not null,
    _published_at timestamptz not null
);
create index nomis_population_estimates_batch_idx
    on raw_public.nomis_population_estimates (_batch_id);
comment on table raw_public.nomis_population_estimates is
    'Published rows of Nomis CSV downloads of ONS population estimates (contract: '
    'plugins/vawg_warehouse/contracts/public_nomis_population_estimates.yml): one row per area '
    'and column (age band or year) of each block of the download.';
