{#- ONS population estimates by area, year and basis, from the workbooks and Nomis downloads loaded. -#}
with

workbook_rows as (

    select * from {{ ref('stg_ons__mid_year_estimates') }}

),

nomis_rows as (

    select * from {{ ref('stg_ons__nomis_population_estimates') }}

),

figures as (

    -- Both publications as one: the first year of age a figure counts, whether it counts
    -- everyone from there up, or everyone.
    select
        'ONS mid-year estimates workbook' as source_name,
        reference_year,
        sex,
        area_code,
        area_name,
        age_from,
        is_open_ended,
        is_all_ages,
        population,
        _batch_id
    from workbook_rows

    union all

    select
        'Nomis download' as source_name,
        reference_year,
        sex,
        area_code,
        area_name,
        age_from,
        is_open_ended,
        is_all_ages,
        population,
        _batch_id
    from nomis_rows
    where sex is not null

),

latest_batches as (

    -- For each publication, year, sex and area, the batch loaded last wins (a revised release
    -- restates the year).
    select
        *,
        _batch_id = max(_batch_id) over (
            partition by source_name, reference_year, sex, area_code
        ) as is_latest
    from figures

),

by_sex as (

    -- All ages, and aged 16 and over: given as such (Aged 16+), else the sum of every single
    -- year from 16 up to the open-ended last one, when none is missing.
    select
        source_name,
        reference_year,
        sex,
        area_code,
        max(area_name) as area_name,
        max(_batch_id) as _batch_id,
        max(population) filter (where is_all_ages) as all_ages,
        coalesce(
            max(population) filter (where is_open_ended and age_from = 16),
            case
                when
                    count(*) filter (where age_from >= 16 and not is_open_ended)
                    = max(age_from) filter (where is_open_ended and age_from > 16) - 16
                    and count(population) filter (where age_from >= 16)
                    = count(*) filter (where age_from >= 16)
                    then sum(population) filter (where age_from >= 16)
            end
        ) as aged_16_plus
    from latest_batches
    where is_latest
    group by source_name, reference_year, sex, area_code

),

bases as (

    select
        by_sex.source_name,
        by_sex.reference_year,
        by_sex.area_code,
        by_sex.area_name,
        by_sex._batch_id,
        named.population_basis,
        named.population
    from by_sex
    cross join
        lateral (
            values
            (by_sex.sex, by_sex.all_ages),
            (by_sex.sex || '_16_plus', by_sex.aged_16_plus)
        ) as named (population_basis, population)
    where by_sex.sex in ('persons', 'females') and named.population is not null

),

ranked as (

    -- One estimate per area, year and basis: the publication loaded last.
    select
        *,
        row_number() over (
            partition by area_code, reference_year, population_basis
            order by _batch_id desc
        ) as estimate_rank
    from bases

)

select
    cast(area_code as text) as area_code,
    cast(area_name as text) as area_name,
    cast(population_basis as text) as population_basis,
    cast(source_name as text) as source_name,
    cast(reference_year as integer) as reference_year,
    cast(population as integer) as population,
    cast(_batch_id as bigint) as _batch_id
from ranked
where estimate_rank = 1
