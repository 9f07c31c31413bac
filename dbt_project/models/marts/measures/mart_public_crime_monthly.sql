with

policeuk_crimes as (

    select * from {{ ref('int_policeuk_crimes_deduplicated') }}

),

crime_outcomes as (

    select * from {{ ref('int_policeuk_crime_outcomes_ranked') }}

),

crime_types as (

    select * from {{ ref('policeuk_crime_types') }}

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
        policeuk_crimes.force_code,
        policeuk_crimes.crime_month_start_date,
        policeuk_crimes.crime_type,
        coalesce(geographies.geography_key, {{ unknown_member_key() }}) as geography_key,
        coalesce(
            crime_outcomes.outcome_category,
            policeuk_crimes.last_outcome_category,
            no_outcome.outcome_category
        ) as outcome_category
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

),

cells as (

    select
        crime_month_start_date,
        force_code,
        geography_key,
        crime_type,
        outcome_category,
        count(*) as crime_count
    from crimes_placed
    group by crime_month_start_date, force_code, geography_key, crime_type, outcome_category

),

cells_with_totals as (

    select
        *,
        sum(crime_count) over (
            partition by crime_month_start_date, force_code, geography_key, crime_type
        ) as crime_type_count
    from cells

),

final as (

    select
        -- keys
        cells_with_totals.crime_month_start_date as month_start_date,
        cast(cells_with_totals.force_code as text) as force_code,
        cast(cells_with_totals.geography_key as text) as geography_key,
        cast(cells_with_totals.crime_type as text) as crime_type,
        cast(cells_with_totals.outcome_category as text) as outcome_category,

        -- strings
        cast(geographies.local_authority_code as text) as local_authority_code,
        cast(geographies.local_authority_name as text) as local_authority_name,
        -- A wording the seed lacks (published with a warning by the suite) is in group 'other'.
        cast(coalesce(outcome_categories.outcome_group, 'other') as text) as outcome_group,

        -- numerics
        cast(crime_types.display_order as integer) as crime_type_display_order,
        cast(cells_with_totals.crime_count as integer) as crime_count,
        cast(cells_with_totals.crime_type_count as integer) as crime_type_count,
        cast(
            round(100.0 * cells_with_totals.crime_count / cells_with_totals.crime_type_count, 1)
            as numeric
        ) as outcome_share_pct,

        -- booleans
        cast(crime_types.is_vawg_relevant as boolean) as is_vawg_relevant

    from cells_with_totals
    left join geographies
        on cells_with_totals.geography_key = geographies.geography_key
    left join crime_types
        on cells_with_totals.crime_type = crime_types.crime_type
    left join outcome_categories
        on cells_with_totals.outcome_category = outcome_categories.outcome_category

)

select * from final
