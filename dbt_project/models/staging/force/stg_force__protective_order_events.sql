with

source as (

    select * from {{ source('force', 'protective_order_events') }}
    {{- as_of_filter() }}

),

renamed as (

    select
        -- ids
        cast(order_reference as text) as order_id,
        cast(crime_reference as text) as crime_id,

        -- strings
        cast(order_type as text) as order_type,
        cast(event_type as text) as event_type,
        cast(local_authority_code as text) as local_authority_code,
        cast(victim_pseudonym as text) as victim_pseudonym,
        cast(perpetrator_pseudonym as text) as perpetrator_pseudonym,

        -- numerics
        cast(event_sequence as integer) as event_sequence,

        -- dates
        cast(event_date as date) as event_date,

        -- timestamps
        cast(extracted_at as timestamptz) as extracted_at,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
