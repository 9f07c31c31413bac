{#- Measure 1 for publication: small numbers suppressed (macros/suppression.sql). -#}
with

mart as (

    select * from {{ ref('mart_reporting_monthly') }}

),

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

published_categories as (

    -- stalking_and_harassment is stalking + harassment, which are published beside it: a
    -- suppressed stalking count could be worked out from it, so it is left out here (add the two
    -- where both are published).
    select * from mart
    where reporting_category <> 'stalking_and_harassment'

),

{{ suppression_ctes(
    source_cte='published_categories',
    key_columns=['month_start_date', 'local_authority_code', 'reporting_category'],
    group_columns=['month_start_date', 'reporting_category'],
    passthrough_columns=[
        'category_label', 'local_authority_name', 'division_name', 'financial_year',
        'population_basis', 'trend_break_note', 'population', 'population_reference_year',
        'is_change_across_trend_break',
    ],
    count_columns=['crime_count', 'crime_count_same_month_last_year'],
    rates={
        'rate_per_1000': ['crime_count'],
        'change_on_last_year': ['crime_count', 'crime_count_same_month_last_year'],
        'change_on_last_year_pct': ['crime_count', 'crime_count_same_month_last_year'],
    },
) }}

select * from published
