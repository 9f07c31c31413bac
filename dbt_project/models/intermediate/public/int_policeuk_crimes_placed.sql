{#-
    The public crime mart's counting rules, once: each police.uk crime (street file row) with the
    local authority and current outcome it is counted under. mart_public_crime_monthly counts it;
    lineage_public_crime_monthly lists its batches.
-#}
with

policeuk_crimes as (

    select * from {{ ref('int_policeuk_crimes_deduplicated') }}

),

crime_outcomes as (

    select * from {{ ref('int_policeuk_crime_outcomes_ranked') }}

),

outcome_categories as (

    select * from {{ ref('policeuk_outcome_categories') }}

),

local_authority_names as (

    select * from {{ ref('policeuk_local_authority_names') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

no_outcome as (

    -- The seed's label for a crime without any outcome in the files (and anti-social behaviour).
    select min(outcome_category) as outcome_category
    from outcome_categories
    where outcome_group = 'none'

),

crimes_placed as (

    -- Every row is a crime as police.uk counts it (a repeated Crime ID counts each time; anti-social
    -- behaviour has none). Local authority: the LSOA name less its code ("Preston 012B" -> Preston),
    -- so 2011 and 2021 LSOAs map alike; no LSOA ("No Location") or one outside the force area ->
    -- the unknown member. Outcome: the latest in the outcomes files, else the street file's last
    -- outcome category, else the seed's "no outcome" label.
    select
        cast(policeuk_crimes.force_code as text) as force_code,
        policeuk_crimes.crime_month_start_date as month_start_date,
        cast(policeuk_crimes.crime_type as text) as crime_type,
        cast(coalesce(geographies.geography_key, {{ unknown_member_key() }}) as text)
            as geography_key,
        cast(
            coalesce(
                crime_outcomes.outcome_category,
                policeuk_crimes.last_outcome_category,
                no_outcome.outcome_category
            ) as text
        ) as outcome_category,
        policeuk_crimes._batch_id as crime_batch_id,
        policeuk_crimes._row_number as crime_row_number,
        crime_outcomes._batch_id as outcome_batch_id
    from policeuk_crimes
    cross join no_outcome
    left join crime_outcomes
        on policeuk_crimes.crime_id = crime_outcomes.crime_id
    left join local_authority_names
        on
            regexp_replace(policeuk_crimes.lsoa_name, ' [0-9]{3}[A-Z]$', '')
            = local_authority_names.lsoa_local_authority_name
    left join geographies
        on local_authority_names.local_authority_code = geographies.local_authority_code

)

select * from crimes_placed
