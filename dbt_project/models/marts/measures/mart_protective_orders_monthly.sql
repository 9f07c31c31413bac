with

classified_events as (

    select * from {{ ref('int_protective_order_events_classified') }}

),

extracts as (

    select * from {{ ref('int_force_extracts_dated') }}

),

month_local_authorities as (

    select * from {{ ref('int_month_local_authority_grid') }}

),

order_types as (

    select * from {{ ref('dim_order_type') }}

),

data_as_of as (

    -- One row, even before the extract's first file (max of nothing is null).
    select max(data_as_of_date) as data_as_of_date
    from extracts
    where dataset_name = 'force_protective_orders'

),

monthly_counts as (

    select
        geography_key,
        order_type_key,
        month_start_date,
        count(*) filter (where event_type = 'notice_issued') as notices_issued,
        count(*) filter (where event_type = 'applied') as applications,
        count(*) filter (where event_type = 'granted') as orders_granted,
        count(*) filter (where event_type = 'refused') as orders_refused,
        count(*) filter (where event_type = 'withdrawn') as applications_withdrawn,
        count(*) filter (where event_type = 'breached') as breaches,
        count(*) filter (where is_notice_converted) as notices_converted
    from classified_events
    group by geography_key, order_type_key, month_start_date

),

reporting_months as (

    {#- Every month from the first event's to the last's, so months without events show 0. -#}
    {{ reporting_months(
        'select min(month_start_date) from classified_events',
        'select max(month_start_date) from classified_events',
    ) }}

),

grid as (

    -- month x local authority x order type (the unknown members too, so totals reconcile;
    -- DAPN/DAPO rows stay 0 in a force that is not a pilot).
    select
        reporting_months.geography_key,
        reporting_months.local_authority_code,
        reporting_months.local_authority_name,
        reporting_months.division_name,
        order_types.order_type_key,
        order_types.order_type,
        order_types.order_type_name,
        order_types.order_category,
        order_types.is_pilot_only,
        reporting_months.financial_year,
        reporting_months.month_start_date
    from reporting_months
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
        {{ is_complete_period('month_start_date', 'data_as_of.data_as_of_date') }}
            as is_complete_period,

        -- dates
        month_start_date,
        data_as_of.data_as_of_date

    from grid_counted
    cross join data_as_of

)

select * from measures
