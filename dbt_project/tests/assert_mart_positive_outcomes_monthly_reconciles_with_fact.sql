-- Measure 2 totals reconcile with the current-outcome fact, worked out another way (from
-- dim_offence's flags, the DA flag and dim_outcome's flags rather than the seeds' rules and the
-- by-type mart). If the OPCC changes a measure 2 category in the seeds, change the matching line
-- here too. Returns the categories whose totals over all months and authorities differ.

with

mart as (

    select * from {{ ref('mart_positive_outcomes_monthly') }}

),

current_outcomes as (

    select * from {{ ref('fct_crime_current_outcome') }}

),

offences as (

    select * from {{ ref('dim_offence') }}

),

outcomes as (

    select * from {{ ref('dim_outcome') }}

),

mart_totals as (

    select
        reporting_category,
        sum(crime_count) as crime_count,
        sum(awaiting_outcome_count) as awaiting_outcome_count,
        sum(positive_count) as positive_count,
        sum(charge_summons_count) as charge_summons_count
    from mart
    group by reporting_category

),

crimes_by_category as (

    select
        categories.reporting_category,
        outcomes.is_open,
        outcomes.is_positive,
        outcomes.is_charge_summons
    from current_outcomes
    inner join offences
        on current_outcomes.offence_key = offences.offence_key
    inner join outcomes
        on current_outcomes.current_outcome_key = outcomes.outcome_key
    -- sqlfluff reads a lateral join after joins with `on` as a new clause: the layout is ours.
    -- noqa: disable=LT02
    cross join lateral (
        values
        ('domestic_abuse', current_outcomes.is_domestic_abuse),
        ('rape', offences.is_rape),
        ('stalking', offences.is_stalking)
    ) as categories (reporting_category, is_in_category)
    -- noqa: enable=LT02
    where categories.is_in_category and current_outcomes.recorded_date_key <> -1

),

fact_totals as (

    select
        reporting_category,
        count(*) as crime_count,
        count(*) filter (where is_open) as awaiting_outcome_count,
        count(*) filter (where is_positive) as positive_count,
        count(*) filter (where is_charge_summons) as charge_summons_count
    from crimes_by_category
    group by reporting_category

),

differences as (

    select
        mart_totals.reporting_category,
        mart_totals.crime_count as mart_crime_count,
        fact_totals.crime_count as fact_crime_count
    from mart_totals
    left join fact_totals
        on mart_totals.reporting_category = fact_totals.reporting_category
    where
        mart_totals.crime_count <> coalesce(fact_totals.crime_count, 0)
        or mart_totals.awaiting_outcome_count <> coalesce(fact_totals.awaiting_outcome_count, 0)
        or mart_totals.positive_count <> coalesce(fact_totals.positive_count, 0)
        or mart_totals.charge_summons_count <> coalesce(fact_totals.charge_summons_count, 0)

)

select * from differences
