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
        cast(source_release as text) as source_release,

        -- numerics
        cast(rows_loaded as bigint) as rows_loaded,
        cast(rows_rejected as bigint) as rows_rejected,

        -- booleans
        coalesce(source_release like 'api%', false) as is_api_release,

        -- dates
        cast(source_release_date as date) as source_release_date,

        -- timestamps
        cast(registered_at as timestamptz) as registered_at,
        cast(published_at as timestamptz) as published_at

    from source

)

select * from renamed
