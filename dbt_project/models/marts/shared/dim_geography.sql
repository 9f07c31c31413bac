with

local_authorities as (

    select * from {{ ref('local_authorities') }}
    where force_code = {{ home_force() }}  -- the home force's (seed forces)

),

population_estimates as (

    select * from {{ ref('population_mid_year') }}

),

latest_population_estimates as (

    select distinct on (local_authority_code)
        local_authority_code,
        reference_year,
        persons,
        females,
        persons_16_plus,
        females_16_plus
    from population_estimates
    order by local_authority_code asc, reference_year desc

),

geographies as (

    select
        -- ids
        {{ surrogate_key(['local_authorities.local_authority_code']) }} as geography_key,
        cast(local_authorities.local_authority_code as text) as local_authority_code,

        -- strings
        cast(local_authorities.local_authority_name as text) as local_authority_name,
        cast(local_authorities.division_name as text) as division_name,
        cast(local_authorities.police_force_area_code as text) as police_force_area_code,
        cast(local_authorities.police_force_area_name as text) as police_force_area_name,

        -- numerics
        cast(latest_population_estimates.reference_year as integer) as population_reference_year,
        cast(latest_population_estimates.persons as integer) as population_persons,
        cast(latest_population_estimates.females as integer) as population_females,
        cast(latest_population_estimates.persons_16_plus as integer) as population_persons_16_plus,
        cast(latest_population_estimates.females_16_plus as integer) as population_females_16_plus

    from local_authorities
    left join latest_population_estimates
        on local_authorities.local_authority_code = latest_population_estimates.local_authority_code

),

unknown_member as (

    -- Crimes whose local authority is missing or not in the seed point here.
    select
        {{ unknown_member_key() }} as geography_key,
        '-1' as local_authority_code,
        'Unknown' as local_authority_name,
        'Unknown' as division_name,
        'Unknown' as police_force_area_code,
        'Unknown' as police_force_area_name,
        cast(null as integer) as population_reference_year,
        cast(null as integer) as population_persons,
        cast(null as integer) as population_females,
        cast(null as integer) as population_persons_16_plus,
        cast(null as integer) as population_females_16_plus

),

geographies_with_unknown as (

    select * from geographies
    union all
    select * from unknown_member

)

select * from geographies_with_unknown
