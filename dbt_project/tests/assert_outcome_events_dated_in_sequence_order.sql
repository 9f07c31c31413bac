-- A crime's current outcome is its event with the highest outcome_sequence, on the understanding
-- that the force numbers events in the order it assigns them, so dates never go backwards along
-- the sequence. Returns the events dated before the crime's previous event (a warning: the
-- force should be asked whether such an event is a correction or a late entry).

with

outcome_events as (

    select * from {{ ref('fct_crime_outcome_event') }}

),

with_previous as (

    select
        crime_id,
        outcome_sequence,
        outcome_date,
        lag(outcome_date) over (
            partition by crime_id
            order by outcome_sequence
        ) as previous_outcome_date
    from outcome_events

),

out_of_order as (

    select *
    from with_previous
    where outcome_date < previous_outcome_date

)

select * from out_of_order
