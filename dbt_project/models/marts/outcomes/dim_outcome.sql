with

outcome_types as (

    select * from {{ ref('ho_outcome_types') }}

),

outcomes as (

    select
        -- ids
        {{ surrogate_key(['outcome_code']) }} as outcome_key,
        cast(outcome_code as text) as outcome_code,

        -- strings
        cast(outcome_description as text) as outcome_description,
        cast(outcome_group as text) as outcome_group,
        cast(status as text) as classification_status,

        -- numerics
        cast(sort_order as integer) as sort_order,

        -- booleans
        cast(is_open as boolean) as is_open,
        cast(is_positive as boolean) as is_positive,
        cast(is_charge_summons as boolean) as is_charge_summons,
        cast(is_diversion as boolean) as is_diversion,
        cast(is_evidential_difficulties as boolean) as is_evidential_difficulties

    from outcome_types

),

unknown_member as (

    -- Outcome events whose code is not in the seed point here: an outcome was assigned (not
    -- open) but it counts as none of positive, diversion or evidential difficulties.
    select
        {{ unknown_member_key() }} as outcome_key,
        '-1' as outcome_code,
        'Unknown' as outcome_description,
        'Unknown' as outcome_group,
        'U' as classification_status,
        9999 as sort_order,
        false as is_open,
        false as is_positive,
        false as is_charge_summons,
        false as is_diversion,
        false as is_evidential_difficulties

),

outcomes_with_unknown as (

    select * from outcomes
    union all
    select * from unknown_member

)

select * from outcomes_with_unknown
