with

flagged_cases as (

    select * from {{ ref('int_marac_cases_flagged') }}

),

batches_behind as (

    -- The cases mart_marac_repeat_monthly counts (the same model), by the load batch of each.
    select
        month_start_date,
        local_authority_code,
        cast('fct_marac_case' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from flagged_cases
    group by month_start_date, local_authority_code, _batch_id

)

select * from batches_behind
