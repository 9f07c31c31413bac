{#-
    Incremental: each run takes the current versions (int_grant_versions_ranked, version_rank 1)
    that came in a load batch newer than the newest in the table, or were published since it was
    last built. delete+insert on grant_key replaces a grant restated by a later snapshot. Run with
    --full-refresh after a change to the dimensions' keys.
-#}
{{
    config(
        materialized='incremental',
        unique_key='grant_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

grant_versions as (

    select * from {{ ref('int_grant_versions_ranked') }}
    where
        is_current_version
        {%- if is_incremental() %}
        and {{ rows_published_since_last_build() }}
        {%- endif %}

),

dates as (

    select * from {{ ref('dim_date') }}

),

funders as (

    select * from {{ ref('dim_funder') }}

),

schemes as (

    select * from {{ ref('dim_funding_scheme') }}

),

grants_keyed as (

    -- Keys to the dimensions, falling back to each one's unknown member.
    select
        -- ids
        {{ surrogate_key(['grant_versions.grant_id']) }} as grant_key,
        grant_versions.grant_id,
        coalesce(funders.funder_key, {{ unknown_member_key() }}) as funder_key,
        coalesce(schemes.funding_scheme_key, {{ unknown_member_key() }}) as funding_scheme_key,
        coalesce(applied_dates.date_key, -1) as applied_date_key,
        coalesce(awarded_dates.date_key, -1) as awarded_date_key,
        coalesce(received_dates.date_key, -1) as received_date_key,

        -- strings
        grant_versions.funder_name,
        grant_versions.scheme_name,
        grant_versions.purpose,
        grant_versions.financial_year,
        grant_versions.grant_status,

        -- numerics
        cast(left(grant_versions.financial_year, 4) as integer) as financial_year_start_year,
        grant_versions.amount_applied,
        grant_versions.amount_awarded,
        grant_versions.amount_received,
        grant_versions.version_count as snapshot_count,

        -- dates
        grant_versions.applied_date,
        grant_versions.awarded_date,
        grant_versions.received_date,
        grant_versions.valid_from_date as register_date,

        -- load lineage
        grant_versions._batch_id,
        grant_versions._row_number,
        grant_versions._published_at

    from grant_versions
    left join funders
        on grant_versions.funder_name = funders.funder_name
    left join schemes
        on grant_versions.scheme_name = schemes.scheme_name
    left join dates as applied_dates
        on grant_versions.applied_date = applied_dates.calendar_date
    left join dates as awarded_dates
        on grant_versions.awarded_date = awarded_dates.calendar_date
    left join dates as received_dates
        on grant_versions.received_date = received_dates.calendar_date

)

select * from grants_keyed
