with

source as (

    select * from {{ source('ons', 'nomis_population_estimates') }}

),

renamed as (

    select
        -- ids
        cast(btrim(area_code) as text) as area_code,

        -- strings
        cast(btrim(area_name) as text) as area_name,
        -- Nomis's wordings of the three sexes; another wording makes no basis
        cast(
            case
                when lower(btrim(sex)) in ('total', 'all persons', 'persons') then 'persons'
                when lower(btrim(sex)) in ('female', 'females') then 'females'
                when lower(btrim(sex)) in ('male', 'males') then 'males'
            end as text
        ) as sex,
        cast(btrim(sex) as text) as sex_as_published,
        cast(btrim(measure) as text) as measure,

        -- numerics
        cast(reference_year as integer) as reference_year,
        -- "Age 30", "Aged 30", "Aged 16+", "Aged 90+": the first year of age counted
        cast(substring(btrim(measure) from '^[Aa]ged? ([0-9]{1,3})\+?$') as integer) as age_from,
        cast(case when btrim(population) ~ '^[0-9]{1,9}$' then population end as integer)
            as population,

        -- booleans
        lower(btrim(measure)) = 'all ages' as is_all_ages,
        btrim(measure) ~ '^[Aa]ged? [0-9]{1,3}\+$' as is_open_ended,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
