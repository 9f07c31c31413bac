with

service_returns as (

    select * from {{ ref('int_service_returns_placed') }}

),

batches_behind as (

    -- The returns mart_victim_services_quarterly adds up (the same model), by load batch.
    select
        financial_year,
        financial_quarter,
        service_code,
        cast('fct_service_return' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from service_returns
    group by financial_year, financial_quarter, service_code, _batch_id

)

select * from batches_behind
