with

source as (

    select * from {{ source('audit', 'dbt_group_build') }}

),

renamed as (

    select
        -- ids
        cast(group_build_id as bigint) as group_build_id,

        -- strings
        cast(group_name as text) as group_name,
        cast(command as text) as dbt_command,

        -- booleans
        cast(success as boolean) as is_success,

        -- timestamps
        cast(finished_at as timestamptz) as finished_at

    from source

)

select * from renamed
