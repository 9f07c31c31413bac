with

source as (

    select * from {{ source('force', 'outcomes') }}
    {{- as_of_filter() }}

),

renamed as (

    select
        -- ids
        cast(crime_reference as text) as crime_id,

        -- strings
        cast(outcome_code as text) as outcome_code,

        -- numerics
        cast(outcome_sequence as integer) as outcome_sequence,

        -- dates
        cast(outcome_date as date) as outcome_date,

        -- timestamps
        cast(extracted_at as timestamptz) as extracted_at,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
