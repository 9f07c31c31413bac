with

schemes as (

    select * from {{ ref('funding_schemes') }}

),

schemes_keyed as (

    select
        -- ids
        {{ surrogate_key(['scheme']) }} as funding_scheme_key,
        cast(scheme as text) as scheme_name,

        -- strings
        cast(funder as text) as funder_name,
        cast(status as text) as classification_status,
        cast(allocation_type as text) as allocation_type,

        -- numerics
        cast(sort_order as integer) as sort_order,

        -- booleans
        cast(is_competitive as boolean) as is_competitive

    from schemes

),

unknown_member as (

    -- Grants whose scheme is missing or not in the seed point here.
    select
        {{ unknown_member_key() }} as funding_scheme_key,
        '-1' as scheme_name,
        '-1' as funder_name,
        'U' as classification_status,
        'core_allocation' as allocation_type,
        999 as sort_order,
        false as is_competitive

),

schemes_with_unknown as (

    select * from schemes_keyed
    union all
    select * from unknown_member

)

select * from schemes_with_unknown
