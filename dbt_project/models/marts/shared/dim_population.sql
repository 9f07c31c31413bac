{#- Population estimates by area, year and basis: what every rate divides by, and where it came from. -#}
with

authority_estimates as (

    select * from {{ ref('int_populations_unpivoted') }}

),

force_estimates as (

    select * from {{ ref('int_force_populations') }}

),

local_authorities as (

    select * from {{ ref('local_authorities') }}
    where force_code = {{ home_force() }}  -- the home force's (seed forces)

),

police_forces as (

    select * from {{ ref('police_forces') }}

),

areas as (

    select
        'local_authority' as area_type,
        authority_estimates.local_authority_code as area_code,
        local_authorities.local_authority_name as area_name,
        authority_estimates.population_basis,
        authority_estimates.population_source,
        authority_estimates.reference_year,
        authority_estimates.population
    from authority_estimates
    inner join local_authorities
        on authority_estimates.local_authority_code = local_authorities.local_authority_code

    union all

    select
        case when police_forces.area_type = 'country' then 'country' else 'police_force_area' end
            as area_type,
        null as area_code,
        force_estimates.force_name as area_name,
        force_estimates.population_basis,
        force_estimates.population_source,
        force_estimates.reference_year,
        force_estimates.population
    from force_estimates
    inner join police_forces
        on force_estimates.force_name = police_forces.force_name

)

select
    cast(
        {{ surrogate_key(['area_type', 'area_name', 'reference_year', 'population_basis']) }}
        as text
    ) as population_key,
    cast(area_code as text) as area_code,
    cast(area_type as text) as area_type,
    cast(area_name as text) as area_name,
    cast(population_basis as text) as population_basis,
    cast(population_source as text) as population_source,
    cast(reference_year as integer) as reference_year,
    cast(population as integer) as population,
    population_source not like '%seed%' as is_ons_estimate
from areas
