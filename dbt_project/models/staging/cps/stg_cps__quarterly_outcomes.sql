with

source as (

    select * from {{ source('cps', 'quarterly_outcomes') }}
    {{- as_of_filter() }}

),

renamed as (

    select
        -- strings
        cast(financial_year as text) as cps_financial_year,
        cast(financial_quarter as text) as financial_quarter,
        cast(area_name as text) as area_name,
        cast(case_category as text) as case_category,
        cast(measure as text) as measure,

        -- numerics
        cast(volume as integer) as volume,

        -- dates
        cast(published_date as date) as published_date,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
