with

crimes_placed as (

    select * from {{ ref('int_policeuk_crimes_placed') }}

),

crime_types as (

    select * from {{ ref('policeuk_crime_types') }}

),

outcome_categories as (

    select * from {{ ref('policeuk_outcome_categories') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

forces_as_of as (

    -- police.uk publishes a force's month whole, once the month is over: every month in the files
    -- is complete, and the force's data are as of the last day of its latest month.
    select
        force_code,
        cast(max(month_start_date) + interval '1 month' as date) - 1 as data_as_of_date
    from crimes_placed
    group by force_code

),

cells as (

    select
        month_start_date,
        force_code,
        geography_key,
        crime_type,
        outcome_category,
        count(*) as crime_count
    from crimes_placed
    group by month_start_date, force_code, geography_key, crime_type, outcome_category

),

cells_with_totals as (

    select
        *,
        sum(crime_count) over (
            partition by month_start_date, force_code, geography_key, crime_type
        ) as crime_type_count
    from cells

),

final as (

    select
        -- keys
        cells_with_totals.month_start_date,
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
        cast(crime_types.is_vawg_relevant as boolean) as is_vawg_relevant,
        true as is_complete_period,

        -- dates
        forces_as_of.data_as_of_date

    from cells_with_totals
    inner join forces_as_of
        on cells_with_totals.force_code = forces_as_of.force_code
    left join geographies
        on cells_with_totals.geography_key = geographies.geography_key
    left join crime_types
        on cells_with_totals.crime_type = crime_types.crime_type
    left join outcome_categories
        on cells_with_totals.outcome_category = outcome_categories.outcome_category

)

select * from final
