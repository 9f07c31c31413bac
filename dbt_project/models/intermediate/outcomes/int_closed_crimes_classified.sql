{#-
    Measure 2, closed basis, once: each crime of a measured category whose current outcome is
    assigned, in the month it was assigned. mart_positive_outcomes_closed_monthly counts it;
    lineage_positive_outcomes_closed_monthly lists its batches.
-#}
with

outcome_events as (

    select * from {{ ref('fct_crime_outcome_event') }}

),

categorised_crimes as (

    select * from {{ ref('int_crimes_categorised') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

outcomes as (

    select * from {{ ref('dim_outcome') }}

),

outcome_measure_categories as (

    select * from {{ ref('outcome_measure_categories') }}

),

outcome_events_ranked as (

    -- The closed-basis rule: a crime counts once, in the month its CURRENT outcome (the event
    -- with the highest outcome_sequence) was assigned, and only when that outcome is not open.
    -- assigned_event_count > 1: an earlier event was already assigned (16 then 1: the crime
    -- moved out of the month of its 16 into the month of its 1).
    select
        outcome_events.crime_key,
        outcome_events.outcome_key,
        outcome_events.outcome_date_key,
        outcome_events._batch_id,
        row_number() over (
            partition by outcome_events.crime_key
            order by outcome_events.outcome_sequence desc
        ) as recency_rank,
        count(*) filter (where not outcomes.is_open) over (
            partition by outcome_events.crime_key
        ) as assigned_event_count
    from outcome_events
    inner join outcomes
        on outcome_events.outcome_key = outcomes.outcome_key

),

closed_crimes as (

    -- An outcome whose crime has not arrived yet cannot be put in a category and waits (inner
    -- join with the categorised crimes).
    select
        categorised_crimes.crime_key,
        categorised_crimes.reporting_category,
        categorised_crimes.geography_key,
        categorised_crimes.local_authority_code,
        dates.month_start_date,
        outcome_events_ranked.outcome_key,
        outcomes.outcome_code,
        outcomes.is_positive,
        outcomes.is_charge_summons,
        outcomes.is_diversion,
        outcomes.is_evidential_difficulties,
        outcome_events_ranked.assigned_event_count > 1 as had_earlier_assigned_outcome,
        categorised_crimes._batch_id,
        outcome_events_ranked._batch_id as outcome_batch_id
    from outcome_events_ranked
    inner join outcomes
        on outcome_events_ranked.outcome_key = outcomes.outcome_key
    inner join dates
        on outcome_events_ranked.outcome_date_key = dates.date_key
    inner join categorised_crimes
        on outcome_events_ranked.crime_key = categorised_crimes.crime_key
    inner join outcome_measure_categories
        on categorised_crimes.reporting_category = outcome_measure_categories.reporting_category
    where
        outcome_events_ranked.recency_rank = 1
        and not outcomes.is_open
        and dates.month_start_date is not null

)

select * from closed_crimes
