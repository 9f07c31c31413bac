with

source as (

    select * from {{ source('audit', 'load_batch') }}

),

renamed as (

    select
        -- ids
        cast(batch_id as bigint) as batch_id,

        -- strings
        cast(dataset as text) as dataset_name,
        cast(file_name as text) as file_name,
        cast(file_sha256 as text) as file_sha256,
        cast(status as text) as batch_status,

        -- numerics
        cast(rows_loaded as bigint) as rows_loaded,

        -- timestamps
        cast(registered_at as timestamptz) as registered_at,
        cast(published_at as timestamptz) as published_at

    from source

)

select * from renamed
