with

age_bands as (

    select * from {{ ref('victim_age_bands') }}

),

sexes as (

    select * from {{ ref('victim_sexes') }}

),

cohorts as (

    -- Every age band with every recorded sex (seeds victim_age_bands x victim_sexes).
    select
        -- ids
        {{ surrogate_key(['age_bands.victim_age_band', 'sexes.victim_sex']) }}
            as victim_cohort_key,
        cast(age_bands.victim_age_band as text) as victim_age_band,
        cast(sexes.victim_sex as text) as victim_sex,

        -- strings
        cast(age_bands.age_band_label as text) as age_band_label,
        cast(sexes.sex_label as text) as sex_label,
        cast(sexes.sex_label || ', ' || lower(age_bands.age_band_label) as text) as cohort_label,

        -- numerics
        cast(age_bands.min_age as integer) as min_age,
        cast(age_bands.max_age as integer) as max_age,
        cast(age_bands.sort_order as integer) as age_band_sort_order,
        cast(sexes.sort_order as integer) as sex_sort_order,

        -- booleans
        cast(sexes.is_female as boolean) as is_female,
        cast(age_bands.is_aged_16_plus as boolean) as is_aged_16_plus,
        cast(age_bands.is_under_18 as boolean) as is_under_18

    from age_bands
    cross join sexes

),

unknown_member as (

    -- Crimes whose age band or sex is missing or not in the seeds point here.
    select
        {{ unknown_member_key() }} as victim_cohort_key,
        '-1' as victim_age_band,
        '-1' as victim_sex,
        'Unknown' as age_band_label,
        'Unknown' as sex_label,
        'Unknown' as cohort_label,
        cast(null as integer) as min_age,
        cast(null as integer) as max_age,
        cast(null as integer) as age_band_sort_order,
        cast(null as integer) as sex_sort_order,
        cast(null as boolean) as is_female,
        cast(null as boolean) as is_aged_16_plus,
        cast(null as boolean) as is_under_18

),

cohorts_with_unknown as (

    select * from cohorts
    union all
    select * from unknown_member

)

select * from cohorts_with_unknown
