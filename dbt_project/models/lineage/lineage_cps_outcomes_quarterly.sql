with

categorised_outcomes as (

    select * from {{ ref('int_cps_outcomes_categorised') }}

),

batches_behind as (

    -- The figures mart_cps_outcomes_quarterly adds up (the same model), by load batch.
    select
        quarter_start_date,
        reporting_category,
        cast('fct_cps_outcome' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from categorised_outcomes
    where reporting_category is not null
    group by quarter_start_date, reporting_category, _batch_id

)

select * from batches_behind
