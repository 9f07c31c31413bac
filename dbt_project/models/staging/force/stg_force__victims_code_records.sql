with

source as (

    select * from {{ source('force', 'victims_code') }}
    {{- as_of_filter() }}

),

renamed as (

    select
        -- ids
        cast(record_id as text) as record_id,
        cast(crime_reference as text) as crime_id,

        -- strings
        cast(victim_pseudonym as text) as victim_pseudonym,
        cast(status as text) as status,
        cast(recorded_by_unit as text) as recorded_by_unit,

        -- numerics
        cast(right_number as integer) as right_number,

        -- dates
        cast(date_due as date) as due_date,
        cast(date_completed as date) as completed_date,

        -- timestamps
        cast(extracted_at as timestamptz) as extracted_at,

        -- load lineage
        cast(_batch_id as bigint) as _batch_id,
        cast(_row_number as bigint) as _row_number,
        cast(_published_at as timestamptz) as _published_at

    from source

)

select * from renamed
