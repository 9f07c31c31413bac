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

    -- Each event with its month (events outside the calendar have no month).
    select
        order_events.order_event_key,
        order_events.order_id,
        order_events.geography_key,
        order_events.order_type_key,
        order_events.event_type,
        dates.month_start_date
    from order_events
    inner join dates
        on order_events.event_date_key = dates.date_key
    where dates.month_start_date is not null

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

notices_converted as (

    -- Notices whose case was granted the order the notice leads to (seed order_types:
    -- leads_to_order_type, e.g. DVPN -> DVPO).
    select events_by_month.order_event_key
    from events_by_month
    inner join order_types
        on events_by_month.order_type_key = order_types.order_type_key
    inner join granted_orders
        on
            events_by_month.order_id = granted_orders.order_id
            and order_types.leads_to_order_type = granted_orders.order_type
    where events_by_month.event_type = 'notice_issued'

),

monthly_counts as (

    select
        events_by_month.geography_key,
        events_by_month.order_type_key,
        events_by_month.month_start_date,
        count(*) filter (where events_by_month.event_type = 'notice_issued') as notices_issued,
        count(*) filter (where events_by_month.event_type = 'applied') as applications,
        count(*) filter (where events_by_month.event_type = 'granted') as orders_granted,
        count(*) filter (where events_by_month.event_type = 'refused') as orders_refused,
        count(*) filter (
            where events_by_month.event_type = 'withdrawn'
        ) as applications_withdrawn,
        count(*) filter (where events_by_month.event_type = 'breached') as breaches,
        count(notices_converted.order_event_key) as notices_converted
    from events_by_month
    left join notices_converted
        on events_by_month.order_event_key = notices_converted.order_event_key
    group by
        events_by_month.geography_key,
        events_by_month.order_type_key,
        events_by_month.month_start_date

),

reporting_months as (

    -- Every month from the first event's to the last's, so months without events show 0.
    select
        dates.financial_year,
        dates.month_start_date
    from dates
    where
        dates.calendar_date = dates.month_start_date
        and dates.month_start_date >= (select min(month_start_date) from events_by_month)
        and dates.month_start_date <= (select max(month_start_date) from events_by_month)

),

grid as (

    -- month x local authority x order type (the unknown members too, so totals reconcile;
    -- DAPN/DAPO rows stay 0 in a force that is not a pilot).
    select
        geographies.geography_key,
        geographies.local_authority_code,
        geographies.local_authority_name,
        geographies.division_name,
        order_types.order_type_key,
        order_types.order_type,
        order_types.order_type_name,
        order_types.order_category,
        order_types.is_pilot_only,
        reporting_months.financial_year,
        reporting_months.month_start_date
    from reporting_months
    cross join geographies
    cross join order_types

),

grid_counted as (

    select
        grid.*,
        cast(coalesce(monthly_counts.notices_issued, 0) as integer) as notices_issued,
        cast(coalesce(monthly_counts.applications, 0) as integer) as applications,
        cast(coalesce(monthly_counts.orders_granted, 0) as integer) as orders_granted,
        cast(coalesce(monthly_counts.orders_refused, 0) as integer) as orders_refused,
        cast(
            coalesce(monthly_counts.applications_withdrawn, 0) as integer
        ) as applications_withdrawn,
        cast(coalesce(monthly_counts.breaches, 0) as integer) as breaches,
        cast(coalesce(monthly_counts.notices_converted, 0) as integer) as notices_converted
    from grid
    left join monthly_counts
        on
            grid.geography_key = monthly_counts.geography_key
            and grid.order_type_key = monthly_counts.order_type_key
            and grid.month_start_date = monthly_counts.month_start_date

),

measures as (

    select
        -- ids
        local_authority_code,
        order_type,

        -- strings
        local_authority_name,
        division_name,
        order_type_name,
        order_category,
        financial_year,

        -- numerics
        notices_issued,
        applications,
        orders_granted,
        orders_refused,
        applications_withdrawn,
        breaches,
        notices_converted,
        cast(
            round(cast(notices_converted as numeric) / nullif(notices_issued, 0), 4)
            as numeric(6, 4)
        ) as conversion_rate,

        -- booleans
        is_pilot_only,

        -- dates
        month_start_date

    from grid_counted

)

select * from measures
