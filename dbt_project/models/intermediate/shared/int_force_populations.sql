{#- Each police force area's (and England and Wales's) population by year and basis: ONS first, the seed as fallback. -#}
with

ons_estimates as (

    select * from {{ ref('int_population_estimates') }}

),

police_forces as (

    select * from {{ ref('police_forces') }}

),

local_authorities as (

    select * from {{ ref('local_authorities') }}

),

seed_populations as (

    select * from {{ ref('police_force_populations') }}

),

named_areas as (

    -- An ONS row of a police force area (E23, W15) or of England and Wales (K04) whose name is
    -- a force's in seed police_forces ("&" read as "and", any case): ONS writes country names in
    -- capitals.
    select
        police_forces.force_name,
        ons_estimates.reference_year,
        ons_estimates.population_basis,
        ons_estimates.population,
        ons_estimates.source_name || ' (' || ons_estimates.area_code || ')' as population_source,
        1 as source_order
    from ons_estimates
    inner join police_forces
        on
            lower(replace(ons_estimates.area_name, '&', 'and')) = lower(police_forces.force_name)
            and police_forces.area_type in ('territorial_force', 'country')
    where left(ons_estimates.area_code, 3) in ('E23', 'W15', 'K04')

),

summed_authorities as (

    -- A force area whose local authorities (seed local_authorities) all have an estimate of the
    -- year and basis: their sum (the ONS workbooks give authorities, not force areas).
    select
        local_authorities.police_force_area_name as force_name,
        ons_estimates.reference_year,
        ons_estimates.population_basis,
        sum(ons_estimates.population) as population,
        'sum of its local authorities: ' || string_agg(distinct ons_estimates.source_name, ', ')
            as population_source,
        2 as source_order
    from local_authorities
    inner join ons_estimates
        on local_authorities.local_authority_code = ons_estimates.area_code
    group by
        local_authorities.police_force_area_name,
        ons_estimates.reference_year,
        ons_estimates.population_basis
    having count(*) = (
        select count(*)
        from local_authorities as members
        where members.police_force_area_name = local_authorities.police_force_area_name
    )

),

seeded as (

    select
        force_name,
        reference_year,
        population_basis,
        population,
        'seed police_force_populations' as population_source,
        3 as source_order
    from seed_populations

),

ranked as (

    select
        *,
        row_number() over (
            partition by force_name, reference_year, population_basis
            order by source_order
        ) as source_rank
    from (
        select * from named_areas
        union all
        select * from summed_authorities
        union all
        select * from seeded
    ) as every_estimate

)

select
    cast(force_name as text) as force_name,
    cast(population_basis as text) as population_basis,
    cast(population_source as text) as population_source,
    cast(reference_year as integer) as reference_year,
    cast(population as integer) as population
from ranked
where source_rank = 1
