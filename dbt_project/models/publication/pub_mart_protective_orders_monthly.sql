{#- Measure 5 for publication: small numbers suppressed (macros/suppression.sql). -#}
with recursive

mart as (

    -- Complete months only.
    select * from {{ ref('mart_protective_orders_monthly') }}
    where is_complete_period

),

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

{{ suppression_ctes(
    source_cte='mart',
    key_columns=['month_start_date', 'local_authority_code', 'order_type'],
    group_columns=['month_start_date', 'order_type'],
    passthrough_columns=[
        'local_authority_name', 'division_name', 'order_type_name', 'order_category',
        'financial_year', 'is_pilot_only',
    ],
    count_columns=[
        'notices_issued', 'applications', 'orders_granted', 'orders_refused',
        'applications_withdrawn', 'breaches', 'notices_converted',
    ],
    rates={
        'conversion_rate_pct': ['notices_converted', 'notices_issued'],
    },
    trailing_columns=['data_as_of_date'],
) }}

select * from published
