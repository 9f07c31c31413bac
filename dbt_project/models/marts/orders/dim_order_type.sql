with

order_types as (

    select * from {{ ref('order_types') }}

),

order_types_renamed as (

    select
        -- ids
        {{ surrogate_key(['order_type']) }} as order_type_key,
        cast(order_type as text) as order_type,

        -- strings
        cast(order_type_name as text) as order_type_name,
        cast(legislation as text) as legislation,
        cast(order_category as text) as order_category,
        cast(leads_to_order_type as text) as leads_to_order_type,
        cast(status as text) as classification_status,

        -- numerics
        cast(sort_order as integer) as sort_order,

        -- booleans
        cast(is_interim as boolean) as is_interim,
        cast(is_pilot_only as boolean) as is_pilot_only

    from order_types

),

unknown_member as (

    -- Events whose order type is missing or not in the seed point here.
    select
        {{ unknown_member_key() }} as order_type_key,
        '-1' as order_type,
        'Unknown' as order_type_name,
        'Unknown' as legislation,
        'Unknown' as order_category,
        cast(null as text) as leads_to_order_type,
        'U' as classification_status,
        9999 as sort_order,
        false as is_interim,
        false as is_pilot_only

),

order_types_with_unknown as (

    select * from order_types_renamed
    union all
    select * from unknown_member

)

select * from order_types_with_unknown
