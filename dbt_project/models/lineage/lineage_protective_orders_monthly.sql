with

order_events as (

    select * from {{ ref('fct_protective_order_event') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

order_types as (

    select * from {{ ref('dim_order_type') }}

),

events_by_month as (

    -- Each order event in its month, local authority and order type, as the mart counts it.
    select
        order_events._batch_id,
        geographies.local_authority_code,
        order_types.order_type,
        dates.month_start_date
    from order_events
    inner join dates
        on order_events.event_date_key = dates.date_key
    inner join geographies
        on order_events.geography_key = geographies.geography_key
    inner join order_types
        on order_events.order_type_key = order_types.order_type_key
    where dates.month_start_date is not null

),

batches_behind as (

    select
        month_start_date,
        local_authority_code,
        order_type,
        cast('fct_protective_order_event' as text) as fact_model,
        _batch_id as batch_id,
        cast(count(*) as integer) as fact_row_count
    from events_by_month
    group by month_start_date, local_authority_code, order_type, _batch_id

)

select * from batches_behind
