with

closed_crimes as (

    select * from {{ ref('int_closed_crimes_classified') }}

),

fact_rows as (

    -- Behind each crime mart_positive_outcomes_closed_monthly counts (the same model): its
    -- recorded crime and its current outcome event.
    select
        month_start_date,
        local_authority_code,
        reporting_category,
        cast('fct_recorded_crime' as text) as fact_model,
        _batch_id as batch_id
    from closed_crimes
    union all
    select
        month_start_date,
        local_authority_code,
        reporting_category,
        cast('fct_crime_outcome_event' as text) as fact_model,
        outcome_batch_id as batch_id
    from closed_crimes

),

batches_behind as (

    select
        month_start_date,
        local_authority_code,
        reporting_category,
        fact_model,
        batch_id,
        cast(count(*) as integer) as fact_row_count
    from fact_rows
    group by month_start_date, local_authority_code, reporting_category, fact_model, batch_id

)

select * from batches_behind
