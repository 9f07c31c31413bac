{#-
    Incremental: each run takes the current versions (int_crimes_deduplicated) that came in a load
    batch newer than the newest in the table, or were published since it was last built (a batch
    published late). delete+insert on crime_key replaces a restated crime. Run with
    --full-refresh after a change to the dimensions' keys or to its columns (on_schema_change fail).
-#}
{{
    config(
        materialized='incremental',
        unique_key='crime_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

crimes as (

    select * from {{ ref('int_crimes_deduplicated') }}
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

offences as (

    select * from {{ ref('dim_offence') }}

),

victim_cohorts as (

    select * from {{ ref('dim_victim_cohort') }}

),

crimes_keyed as (

    -- Keys to the dimensions, falling back to each one's unknown member.
    select
        -- ids
        {{ surrogate_key(['crimes.crime_id']) }} as crime_key,
        crimes.crime_id,
        coalesce(recorded_dates.date_key, -1) as recorded_date_key,
        coalesce(offence_dates.date_key, -1) as offence_date_key,
        coalesce(geographies.geography_key, {{ unknown_member_key() }}) as geography_key,
        coalesce(offences.offence_key, {{ unknown_member_key() }}) as offence_key,
        coalesce(
            victim_cohorts.victim_cohort_key, {{ unknown_member_key() }}
        ) as victim_cohort_key,

        -- strings
        crimes.offence_code,
        crimes.local_authority_code,
        crimes.victim_pseudonym,
        crimes.victim_age_band,
        crimes.victim_sex,
        crimes.suspect_pseudonym,

        -- booleans
        crimes.is_domestic_abuse,

        -- dates
        crimes.recorded_date,
        crimes.offence_date,

        -- timestamps
        crimes.extracted_at,

        -- load lineage
        crimes._batch_id,
        crimes._row_number,
        crimes._published_at

    from crimes
    left join dates as recorded_dates
        on crimes.recorded_date = recorded_dates.calendar_date
    left join dates as offence_dates
        on crimes.offence_date = offence_dates.calendar_date
    left join geographies
        on crimes.local_authority_code = geographies.local_authority_code
    left join offences
        on crimes.offence_code = offences.offence_code
    left join victim_cohorts
        on
            crimes.victim_age_band = victim_cohorts.victim_age_band
            and crimes.victim_sex = victim_cohorts.victim_sex

)

select * from crimes_keyed
