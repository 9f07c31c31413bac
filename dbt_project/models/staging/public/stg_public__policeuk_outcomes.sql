with

source as (

    select * from {{ source('public', 'policeuk_outcomes') }}

),

renamed as (

    select
        -- ids
        cast(btrim(crime_id) as text) as crime_id,

        -- strings
        cast(reported_by as text) as reported_by,
        cast(falls_within as text) as falls_within,
        cast(nullif(btrim(location), '') as text) as location_description,
        cast(nullif(btrim(lsoa_code), '') as text) as lsoa_code,
        cast(nullif(btrim(lsoa_name), '') as text) as lsoa_name,
        cast(outcome_type as text) as outcome_category,

        -- numerics
        cast(longitude as numeric) as longitude,
        cast(latitude as numeric) as latitude,

        -- dates
        cast(month || '-01' as date) as outcome_month_start_date,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
