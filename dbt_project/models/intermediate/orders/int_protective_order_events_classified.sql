{#-
    Measure 5's rules, once: each protective order event in its month, and for a notice whether
    its case was granted the order it leads to. mart_protective_orders_monthly counts it; its
    lineage lists its batches.
-#}
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

granted_orders as (

    -- The order types each order case was granted, at any time (a DVPN issued on 31 January
    -- whose DVPO is granted on 1 February converted).
    select distinct
        order_events.order_id,
        order_types.order_type
    from order_events
    inner join order_types
        on order_events.order_type_key = order_types.order_type_key
    where order_events.event_type = 'granted'

),

events_classified as (

    -- Each event with its month (events outside the calendar have no month and are left out);
    -- a notice converted when its case was granted the order it leads to (seed order_types:
    -- leads_to_order_type, e.g. DVPN -> DVPO).
    select
        order_events.order_event_key,
        order_events.geography_key,
        geographies.local_authority_code,
        order_events.order_type_key,
        order_types.order_type,
        order_events.event_type,
        dates.month_start_date,
        (
            order_events.event_type = 'notice_issued'
            and granted_orders.order_id is not null
        ) as is_notice_converted,
        order_events._batch_id
    from order_events
    inner join dates
        on order_events.event_date_key = dates.date_key
    inner join geographies
        on order_events.geography_key = geographies.geography_key
    inner join order_types
        on order_events.order_type_key = order_types.order_type_key
    left join granted_orders
        on
            order_events.order_id = granted_orders.order_id
            and order_types.leads_to_order_type = granted_orders.order_type
    where dates.month_start_date is not null

)

select * from events_classified
