with

population_estimates as (

    select * from {{ ref('population_mid_year') }}

),

ons_estimates as (

    select * from {{ ref('int_population_estimates') }}

),

local_authorities as (

    select * from {{ ref('local_authorities') }}

),

seed_unpivoted as (

    -- One row per population basis, so a reporting category picks its denominator by name
    -- (reporting_categories.population_basis) and no SQL names a category's denominator.
    select
        population_estimates.local_authority_code,
        bases.population_basis,
        cast(bases.population as integer) as population,
        cast(population_estimates.reference_year as integer) as reference_year,
        cast('seed population_mid_year' as text) as population_source
    from population_estimates
    cross join lateral (
        values
        ('persons', population_estimates.persons),
        ('females', population_estimates.females),
        ('persons_16_plus', population_estimates.persons_16_plus),
        ('females_16_plus', population_estimates.females_16_plus)
    ) as bases (population_basis, population)

),

unpivoted as (

    -- The ONS estimates loaded (workbooks, Nomis downloads) for each authority, basis and year;
    -- the seed only where none was loaded (the demo's fallback).
    select
        ons_estimates.area_code as local_authority_code,
        ons_estimates.population_basis,
        ons_estimates.population,
        ons_estimates.reference_year,
        ons_estimates.source_name as population_source
    from ons_estimates
    inner join local_authorities
        on ons_estimates.area_code = local_authorities.local_authority_code

    union all

    select seed_unpivoted.*
    from seed_unpivoted
    where not exists (
        select 1
        from ons_estimates
        where
            ons_estimates.area_code = seed_unpivoted.local_authority_code
            and ons_estimates.population_basis = seed_unpivoted.population_basis
            and ons_estimates.reference_year = seed_unpivoted.reference_year
    )

),

years_applied as (

    -- An estimate applies from its reference year until the next estimate; the earliest one
    -- also covers the years before it.
    select
        local_authority_code,
        population_basis,
        population,
        reference_year,
        population_source,
        case
            when reference_year = min(reference_year) over (
                partition by local_authority_code, population_basis
            ) then 1900
            else reference_year
        end as applies_from_year,
        coalesce(
            lead(reference_year) over (
                partition by local_authority_code, population_basis
                order by reference_year
            ) - 1,
            9999
        ) as applies_to_year
    from unpivoted

)

select * from years_applied
