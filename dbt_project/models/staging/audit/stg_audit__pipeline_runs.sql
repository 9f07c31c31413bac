with

source as (

    select * from {{ source('audit', 'pipeline_run') }}

),

renamed as (

    select
        -- ids
        cast(pipeline_run_id as bigint) as pipeline_run_id,
        cast(dag_run_id as text) as dag_run_id,

        -- dates
        cast(logical_date as date) as logical_date,

        -- timestamps
        cast(finished_at as timestamptz) as finished_at

    from source

)

select * from renamed
