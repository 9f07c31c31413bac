{#-
    Incremental: each run takes the current versions (int_protective_order_events_deduplicated)
    that came in a load batch newer than the newest in the table, or were published since it was
    last built (a batch published late). delete+insert on order_event_key replaces a restated
    event. Run with --full-refresh after a change to the dimensions' keys or to its columns
    (on_schema_change fail).
-#}
{{
    config(
        materialized='incremental',
        unique_key='order_event_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

order_events as (

    select * from {{ ref('int_protective_order_events_deduplicated') }}
    {%- if is_incremental() %}
    where {{ rows_published_since_last_build() }}
    {%- endif %}

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

order_events_keyed as (

    -- Keys to the dimensions, falling back to each one's unknown member.
    select
        -- ids
        {{ surrogate_key(['order_events.order_id', 'order_events.event_sequence']) }}
            as order_event_key,
        order_events.order_id,
        order_events.crime_id,
        coalesce(event_dates.date_key, -1) as event_date_key,
        coalesce(order_types.order_type_key, {{ unknown_member_key() }}) as order_type_key,
        coalesce(geographies.geography_key, {{ unknown_member_key() }}) as geography_key,

        -- strings
        order_events.order_type,
        order_events.event_type,
        order_events.local_authority_code,
        order_events.victim_pseudonym,
        order_events.perpetrator_pseudonym,

        -- numerics
        order_events.event_sequence,

        -- dates
        order_events.event_date,

        -- timestamps
        order_events.extracted_at,

        -- load lineage
        order_events._batch_id,
        order_events._row_number,
        order_events._published_at

    from order_events
    left join dates as event_dates
        on order_events.event_date = event_dates.calendar_date
    left join order_types
        on order_events.order_type = order_types.order_type
    left join geographies
        on order_events.local_authority_code = geographies.local_authority_code

)

select * from order_events_keyed
