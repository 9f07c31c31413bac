with

categorised_crimes as (

    select * from {{ ref('int_crimes_categorised') }}

),

batches_behind as (

    -- The crimes mart_reporting_monthly counts (the same model, int_crimes_categorised), by the
    -- load batch of each one's current version.
    select
        month_start_date,
        local_authority_code,
        reporting_category,
        cast('fct_recorded_crime' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from categorised_crimes
    where month_start_date is not null
    group by month_start_date, local_authority_code, reporting_category, _batch_id

)

select * from batches_behind
