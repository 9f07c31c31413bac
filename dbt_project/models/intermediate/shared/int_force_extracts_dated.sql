{#- The data's as-of date of each force extract (macro extract_as_of_date): one row per dataset. -#}
with

crimes as (

    select * from {{ ref('stg_force__crimes') }}

),

outcomes as (

    select * from {{ ref('stg_force__outcomes') }}

),

marac_cases as (

    select * from {{ ref('stg_force__marac_cases') }}

),

protective_order_events as (

    select * from {{ ref('stg_force__protective_order_events') }}

),

victims_code_records as (

    select * from {{ ref('stg_force__victims_code_records') }}

),

extracts_dated as (

    select
        cast('force_crimes' as text) as dataset_name,
        {{ extract_as_of_date('crimes') }} as data_as_of_date
    union all
    select
        'force_outcomes',
        {{ extract_as_of_date('outcomes') }}
    union all
    select
        'force_marac_cases',
        {{ extract_as_of_date('marac_cases') }}
    union all
    select
        'force_protective_orders',
        {{ extract_as_of_date('protective_order_events') }}
    union all
    select
        'force_victims_code',
        {{ extract_as_of_date('victims_code_records') }}

)

select * from extracts_dated
