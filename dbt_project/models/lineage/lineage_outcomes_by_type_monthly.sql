with

cohort_crimes as (

    select * from {{ ref('int_cohort_crimes_classified') }}

),

fact_rows as (

    -- Behind each crime mart_outcomes_by_type_monthly counts (the same model): its recorded
    -- crime and, when it has one, its current outcome event.
    select
        month_start_date,
        local_authority_code,
        reporting_category,
        outcome_code,
        'fct_recorded_crime' as fact_model,
        _batch_id as batch_id
    from cohort_crimes
    union all
    select
        month_start_date,
        local_authority_code,
        reporting_category,
        outcome_code,
        'fct_crime_outcome_event' as fact_model,
        current_outcome_batch_id as batch_id
    from cohort_crimes
    where current_outcome_batch_id is not null

),

batches_behind as (

    select
        month_start_date,
        local_authority_code,
        reporting_category,
        outcome_code,
        cast(fact_model as text) as fact_model,
        batch_id,
        cast(count(*) as integer) as fact_row_count
    from fact_rows
    group by
        month_start_date, local_authority_code, reporting_category, outcome_code,
        fact_model, batch_id

)

select * from batches_behind
