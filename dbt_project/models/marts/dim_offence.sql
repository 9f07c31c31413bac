with

offence_codes as (

    select * from {{ ref('ho_offence_codes') }}

),

offences as (

    select
        -- ids
        {{ surrogate_key(['ho_offence_code']) }} as offence_key,
        cast(ho_offence_code as text) as offence_code,

        -- strings
        cast(offence_description as text) as offence_description,
        cast(offence_subgroup as text) as offence_subgroup,
        cast(status as text) as classification_status,

        -- booleans
        cast(is_rape as boolean) as is_rape,
        cast(is_other_sexual_offence as boolean) as is_other_sexual_offence,
        cast(is_rape or is_other_sexual_offence as boolean) as is_sexual_offence,
        cast(is_stalking as boolean) as is_stalking,
        cast(is_harassment as boolean) as is_harassment,
        cast(is_controlling_coercive as boolean) as is_controlling_coercive

    from offence_codes

),

unknown_member as (

    -- Crimes whose offence code is missing or not in the seed point here.
    select
        {{ unknown_member_key() }} as offence_key,
        '-1' as offence_code,
        'Unknown' as offence_description,
        'Unknown' as offence_subgroup,
        'U' as classification_status,
        false as is_rape,
        false as is_other_sexual_offence,
        false as is_sexual_offence,
        false as is_stalking,
        false as is_harassment,
        false as is_controlling_coercive

),

offences_with_unknown as (

    select * from offences
    union all
    select * from unknown_member

)

select * from offences_with_unknown
