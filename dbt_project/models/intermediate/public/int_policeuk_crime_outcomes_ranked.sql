with

policeuk_outcomes as (

    select * from {{ ref('int_policeuk_outcomes_deduplicated') }}

),

outcomes_ranked as (

    -- A crime's outcomes come in the outcomes files of the month each was given, for crimes of
    -- that month or any earlier one. Its current outcome is the one of the latest month; within a
    -- month, the last row of the file (police.uk lists a crime's outcomes in order).
    select
        crime_id,
        force_code,
        outcome_category,
        outcome_month_start_date,
        _batch_id,
        row_number() over (
            partition by crime_id
            order by outcome_month_start_date desc, _batch_id desc, _row_number desc
        ) as outcome_rank,
        count(*) over (partition by crime_id) as outcome_count
    from policeuk_outcomes

),

latest_outcomes as (

    select
        crime_id,
        force_code,
        outcome_category,
        cast(outcome_count as integer) as outcome_count,
        outcome_month_start_date,
        _batch_id
    from outcomes_ranked
    where outcome_rank = 1

)

select * from latest_outcomes
