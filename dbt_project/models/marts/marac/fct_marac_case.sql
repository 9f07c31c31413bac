{#-
    Incremental: each run takes the current versions (int_marac_cases_deduplicated) that came in a
    load batch newer than the newest in the table, or were published since it was last built (a
    batch published late). delete+insert on marac_case_key replaces a restated case. Whether a
    case is a repeat depends on the victim's other cases, so it is not stored here: the measure
    mart works it out from the whole table on every build. Run with --full-refresh after a change
    to the dimensions' keys or to its columns (on_schema_change fail).
-#}
{{
    config(
        materialized='incremental',
        unique_key='marac_case_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

marac_cases as (

    select * from {{ ref('int_marac_cases_deduplicated') }}
    {%- if is_incremental() %}
    where {{ rows_published_since_last_build() }}
    {%- endif %}

),

dates as (

    select * from {{ ref('dim_date') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

marac_cases_keyed as (

    -- Keys to the dimensions, falling back to each one's unknown member.
    select
        -- ids
        {{ surrogate_key(['marac_cases.case_id']) }} as marac_case_key,
        marac_cases.case_id,
        coalesce(heard_dates.date_key, -1) as heard_date_key,
        coalesce(referred_dates.date_key, -1) as referred_date_key,
        coalesce(geographies.geography_key, {{ unknown_member_key() }}) as geography_key,

        -- strings
        marac_cases.referring_agency,
        marac_cases.risk_basis,
        marac_cases.local_authority_code,
        marac_cases.victim_pseudonym,
        marac_cases.perpetrator_pseudonym,

        -- dates
        marac_cases.heard_date,
        marac_cases.referred_date,

        -- timestamps
        marac_cases.extracted_at,

        -- load lineage
        marac_cases._batch_id,
        marac_cases._row_number,
        marac_cases._published_at

    from marac_cases
    left join dates as heard_dates
        on marac_cases.heard_date = heard_dates.calendar_date
    left join dates as referred_dates
        on marac_cases.referred_date = referred_dates.calendar_date
    left join geographies
        on marac_cases.local_authority_code = geographies.local_authority_code

)

select * from marac_cases_keyed
