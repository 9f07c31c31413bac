with

population_estimates as (

    select * from {{ ref('population_mid_year') }}

),

unpivoted as (

    -- One row per population basis, so a reporting category picks its denominator by name
    -- (reporting_categories.population_basis) and no SQL names a category's denominator.
    select
        population_estimates.local_authority_code,
        bases.population_basis,
        cast(bases.population as integer) as population,
        cast(population_estimates.reference_year as integer) as reference_year
    from population_estimates
    cross join lateral (
        values
        ('persons', population_estimates.persons),
        ('females', population_estimates.females),
        ('persons_16_plus', population_estimates.persons_16_plus),
        ('females_16_plus', population_estimates.females_16_plus)
    ) as bases (population_basis, population)

),

years_applied as (

    -- An estimate applies from its reference year until the next estimate; the earliest one
    -- also covers the years before it.
    select
        local_authority_code,
        population_basis,
        population,
        reference_year,
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
