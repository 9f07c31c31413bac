with

offence_codes as (

    select * from {{ ref('ho_offence_codes') }}

),

reporting_category_rules as (

    select * from {{ ref('reporting_category_rules') }}

),

offence_categories as (

    -- Which reporting categories each code counts in: said once, in reporting_category_rules.
    select
        ho_offence_code,
        bool_or(reporting_category = 'rape') as is_rape,
        bool_or(reporting_category = 'sexual_offences') as is_sexual_offence,
        bool_or(reporting_category = 'stalking') as is_stalking,
        bool_or(reporting_category = 'harassment') as is_harassment,
        bool_or(reporting_category = 'controlling_coercive_behaviour') as is_controlling_coercive
    from reporting_category_rules
    where selection_rule = 'offence_code'
    group by ho_offence_code

),

offences as (

    select
        -- ids
        {{ surrogate_key(['offence_codes.ho_offence_code']) }} as offence_key,
        cast(offence_codes.ho_offence_code as text) as offence_code,

        -- strings
        cast(offence_codes.offence_description as text) as offence_description,
        cast(offence_codes.offence_subgroup as text) as offence_subgroup,
        cast(offence_codes.status as text) as classification_status,

        -- booleans: a code in no rule is in no category
        coalesce(offence_categories.is_rape, false) as is_rape,
        coalesce(
            offence_categories.is_sexual_offence and not offence_categories.is_rape, false
        ) as is_other_sexual_offence,
        coalesce(offence_categories.is_sexual_offence, false) as is_sexual_offence,
        coalesce(offence_categories.is_stalking, false) as is_stalking,
        coalesce(offence_categories.is_harassment, false) as is_harassment,
        coalesce(offence_categories.is_controlling_coercive, false) as is_controlling_coercive

    from offence_codes
    left join offence_categories
        on offence_codes.ho_offence_code = offence_categories.ho_offence_code

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
