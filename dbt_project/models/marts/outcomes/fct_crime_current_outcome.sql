with

recorded_crimes as (

    select * from {{ ref('fct_recorded_crime') }}

),

outcome_events as (

    select * from {{ ref('fct_crime_outcome_event') }}

),

outcomes as (

    select * from {{ ref('dim_outcome') }}

),

outcome_events_ranked as (

    -- A crime's current outcome is its event with the highest outcome sequence (the force numbers
    -- a crime's events 1, 2, 3 ... in the order it assigned them).
    select
        *,
        row_number() over (
            partition by crime_key
            order by outcome_sequence desc
        ) as recency_rank,
        count(*) over (partition by crime_key) as outcome_event_count
    from outcome_events

),

latest_outcome_events as (

    select * from outcome_events_ranked
    where recency_rank = 1

),

open_outcome as (

    -- The seed's "not yet assigned" outcome (is_open: HO outcome 0): the current outcome of a
    -- crime that has no outcome event yet.
    select outcome_key
    from outcomes
    where is_open
    order by sort_order
    limit 1

),

current_outcomes as (

    -- Every recorded crime, with or without an outcome event (an event whose crime has not
    -- arrived yet waits in fct_crime_outcome_event).
    select
        -- ids
        recorded_crimes.crime_key,
        recorded_crimes.crime_id,
        coalesce(latest_outcome_events.outcome_key, open_outcome.outcome_key)
            as current_outcome_key,
        recorded_crimes.recorded_date_key,
        coalesce(latest_outcome_events.outcome_date_key, -1) as current_outcome_date_key,
        recorded_crimes.geography_key,
        recorded_crimes.offence_key,
        recorded_crimes.victim_cohort_key,

        -- strings
        latest_outcome_events.outcome_code as current_outcome_code,

        -- numerics
        latest_outcome_events.outcome_sequence as current_outcome_sequence,
        cast(coalesce(latest_outcome_events.outcome_event_count, 0) as integer)
            as outcome_event_count,
        case
            when not outcomes.is_open
                then latest_outcome_events.outcome_date - recorded_crimes.recorded_date
        end as days_to_current_outcome,

        -- booleans
        recorded_crimes.is_domestic_abuse,
        latest_outcome_events.crime_key is not null as has_outcome_event,
        outcomes.is_open as is_awaiting_outcome,

        -- dates
        recorded_crimes.recorded_date,
        latest_outcome_events.outcome_date as current_outcome_date,

        -- load lineage
        recorded_crimes._batch_id,
        latest_outcome_events._batch_id as current_outcome_batch_id

    from recorded_crimes
    -- left join: without an open outcome in the seed the key is null and the not_null test fails.
    left join open_outcome
        on true
    left join latest_outcome_events
        on recorded_crimes.crime_key = latest_outcome_events.crime_key
    left join outcomes
        on
            coalesce(latest_outcome_events.outcome_key, open_outcome.outcome_key)
            = outcomes.outcome_key

)

select * from current_outcomes
