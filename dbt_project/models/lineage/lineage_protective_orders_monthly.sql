with

classified_events as (

    select * from {{ ref('int_protective_order_events_classified') }}

),

batches_behind as (

    -- The events mart_protective_orders_monthly counts (the same model), by load batch.
    select
        month_start_date,
        local_authority_code,
        order_type,
        cast('fct_protective_order_event' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from classified_events
    group by month_start_date, local_authority_code, order_type, _batch_id

)

select * from batches_behind
