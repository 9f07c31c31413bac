-- Measure 1 totals reconcile with the fact, worked out another way (from dim_offence's flags and
-- the DA flag rather than the reporting_category_rules seed). If the OPCC changes a category's
-- definition in the seed, change the matching line here too.
-- Returns the categories whose total over all months and local authorities differs.

with

mart as (

    select * from {{ ref('mart_reporting_monthly') }}

),

recorded_crimes as (

    select * from {{ ref('fct_recorded_crime') }}

),

offences as (

    select * from {{ ref('dim_offence') }}

),

mart_totals as (

    select
        reporting_category,
        sum(crime_count) as crime_count
    from mart
    group by reporting_category

),

fact_totals as (

    select
        count(*) filter (where recorded_crimes.is_domestic_abuse) as domestic_abuse,
        count(*) filter (where offences.is_sexual_offence) as sexual_offences,
        count(*) filter (where offences.is_rape) as rape,
        -- the Home Office subgroup (8Q, 8L, 8M, 8R, 8U), from seed ho_offence_codes
        count(*) filter (
            where offences.offence_subgroup = 'Stalking and harassment'
        ) as stalking_and_harassment,
        count(*) filter (where offences.is_stalking) as stalking,
        count(*) filter (where offences.is_harassment) as harassment,
        count(*) filter (
            where offences.is_controlling_coercive
        ) as controlling_coercive_behaviour
    from recorded_crimes
    inner join offences
        on recorded_crimes.offence_key = offences.offence_key
    where recorded_crimes.recorded_date_key <> -1

),

fact_totals_by_category as (

    select
        categories.reporting_category,
        categories.crime_count
    from fact_totals
    cross join lateral (
        values
        ('domestic_abuse', fact_totals.domestic_abuse),
        ('sexual_offences', fact_totals.sexual_offences),
        ('rape', fact_totals.rape),
        ('stalking_and_harassment', fact_totals.stalking_and_harassment),
        ('stalking', fact_totals.stalking),
        ('harassment', fact_totals.harassment),
        ('controlling_coercive_behaviour', fact_totals.controlling_coercive_behaviour)
    ) as categories (reporting_category, crime_count)

),

differences as (

    select
        mart_totals.reporting_category,
        mart_totals.crime_count as mart_crime_count,
        fact_totals_by_category.crime_count as fact_crime_count
    from mart_totals
    inner join fact_totals_by_category
        on mart_totals.reporting_category = fact_totals_by_category.reporting_category
    where mart_totals.crime_count <> fact_totals_by_category.crime_count

)

select * from differences
