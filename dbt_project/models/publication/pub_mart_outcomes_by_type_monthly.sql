{#-
    Measure 2 by outcome type, for publication: small numbers suppressed (macros/suppression.sql).
    Two groupings: the local authorities of a month, category and outcome type add up to the
    force figure; the outcome types of a month, local authority and category add up to the
    cohort (crime_count of pub_mart_positive_outcomes_monthly).
-#}
with

mart as (

    select * from {{ ref('mart_outcomes_by_type_monthly') }}

),

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

{{ suppression_ctes(
    source_cte='mart',
    key_columns=['month_start_date', 'local_authority_code', 'reporting_category', 'outcome_code'],
    group_columns=[
        ['month_start_date', 'reporting_category', 'outcome_code'],
        ['month_start_date', 'local_authority_code', 'reporting_category'],
    ],
    passthrough_columns=[
        'category_label', 'local_authority_name', 'division_name', 'financial_year',
        'outcome_description', 'outcome_group', 'outcome_sort_order', 'is_open', 'is_positive',
        'is_charge_summons', 'is_diversion', 'is_evidential_difficulties',
    ],
    count_columns=[
        'crime_count', 'without_outcome_event_count', 'cohort_crime_count',
        'assigned_crime_count',
    ],
    rates={
        'share_of_cohort_pct': ['crime_count', 'cohort_crime_count'],
        'share_of_assigned_pct': ['crime_count', 'assigned_crime_count'],
    },
    trailing_columns=['outcomes_as_of_date'],
) }}

select * from published
