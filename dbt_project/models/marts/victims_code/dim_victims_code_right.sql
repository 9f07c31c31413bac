with

victims_code_rights as (

    select * from {{ ref('victims_code_rights') }}

),

rights as (

    select
        -- ids
        {{ surrogate_key(['right_number']) }} as victims_code_right_key,
        cast(right_number as integer) as right_number,

        -- strings
        cast(right_title as text) as right_title,
        cast(right_label as text) as right_label,
        cast(status as text) as classification_status,

        -- numerics
        cast(sort_order as integer) as sort_order

    from victims_code_rights

),

unknown_member as (

    -- Records whose right number is missing or not in the seed point here.
    select
        {{ unknown_member_key() }} as victims_code_right_key,
        -1 as right_number,
        'Unknown' as right_title,
        'Unknown' as right_label,
        'U' as classification_status,
        9999 as sort_order

),

rights_with_unknown as (

    select * from rights
    union all
    select * from unknown_member

)

select * from rights_with_unknown
