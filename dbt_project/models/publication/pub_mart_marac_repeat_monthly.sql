{#- Measure 3 for publication: small numbers suppressed (macros/suppression.sql). -#}
with recursive

mart as (

    -- Complete months with the 12 months of look-back a repeat needs; the others are
    -- withheld. The rolling twelve-month figures stay in the mart: each sums twelve months of
    -- cells, so it would tie every month to the eleven before it.
    select * from {{ ref('mart_marac_repeat_monthly') }}
    where is_complete_period and has_full_history

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
        'repeat_rate_pct': ['repeat_cases', 'cases_heard'],
        'cases_per_10000_women': ['cases_heard'],
    },
    trailing_columns=['data_as_of_date'],
) }}

select * from published
