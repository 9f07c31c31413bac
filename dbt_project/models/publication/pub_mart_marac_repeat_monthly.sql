{#- Measure 3 for publication: small numbers suppressed (macros/suppression.sql). -#}
with

mart as (

    select * from {{ ref('mart_marac_repeat_monthly') }}

),

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

{{ suppression_ctes(
    source_cte='mart',
    key_columns=['month_start_date', 'local_authority_code'],
    group_columns=['month_start_date'],
    passthrough_columns=[
        'local_authority_name', 'division_name', 'financial_year', 'population_women',
        'population_reference_year', 'repeat_window_months',
    ],
    count_columns=['cases_heard', 'repeat_cases'],
    rates={
        'repeat_rate': ['repeat_cases', 'cases_heard'],
        'cases_per_10000_women': ['cases_heard'],
    },
) }}

select * from published
