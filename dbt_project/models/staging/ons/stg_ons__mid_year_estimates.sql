with

source as (

    select * from {{ source('ons', 'ons_mid_year_estimates') }}

),

renamed as (

    select
        -- ids
        cast(btrim(area_code) as text) as area_code,

        -- strings
        cast(btrim(area_name) as text) as area_name,
        cast(nullif(btrim(geography), '') as text) as geography,
        cast(sex as text) as sex,
        cast(btrim(age) as text) as age_heading,

        -- numerics
        cast(reference_year as integer) as reference_year,
        -- the first year of age the column counts; null for "All ages" (90+ and 90: from 90)
        cast(substring(btrim(age) from '^([0-9]{1,3})\+?$') as integer) as age_from,
        cast(case when btrim(population) ~ '^[0-9]{1,9}$' then population end as integer)
            as population,

        -- booleans
        lower(btrim(age)) = 'all ages' as is_all_ages,
        -- the last column counts everyone from its age up, whether headed 90+ or 90
        btrim(age) ~ '\+$' or btrim(age) = '90' as is_open_ended,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
