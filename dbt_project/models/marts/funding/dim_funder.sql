with

funders as (

    select * from {{ ref('funders') }}

),

funders_keyed as (

    select
        -- ids
        {{ surrogate_key(['funder']) }} as funder_key,
        cast(funder as text) as funder_name,

        -- strings
        cast(funder_type as text) as funder_type,
        cast(status as text) as classification_status,

        -- numerics
        cast(sort_order as integer) as sort_order,

        -- booleans
        cast(funder_type = 'government' as boolean) as is_government_funder

    from funders

),

unknown_member as (

    -- Grants whose funder is missing or not in the seed point here (never Government funding).
    select
        {{ unknown_member_key() }} as funder_key,
        '-1' as funder_name,
        'unknown' as funder_type,
        'U' as classification_status,
        999 as sort_order,
        false as is_government_funder

),

funders_with_unknown as (

    select * from funders_keyed
    union all
    select * from unknown_member

)

select * from funders_with_unknown
