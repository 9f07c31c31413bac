{#- Measure 2, closed basis, for publication: small numbers suppressed (macros/suppression.sql). -#}
with recursive

mart as (

    -- Complete months with the history the closed basis needs; the others are withheld.
    select * from {{ ref('mart_positive_outcomes_closed_monthly') }}
    where is_complete_period and has_full_history

),

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

{{ suppression_ctes(
    source_cte='mart',
    key_columns=['month_start_date', 'local_authority_code', 'reporting_category'],
    group_columns=['month_start_date', 'reporting_category'],
    passthrough_columns=[
        'category_label', 'local_authority_name', 'division_name', 'financial_year',
        'headline_rate',
    ],
    count_columns=[
        'assigned_outcome_count', 'positive_count', 'charge_summons_count', 'diversion_count',
        'evidential_difficulties_count', 'outcome_14_count', 'outcome_15_count',
        'outcome_16_count', 'other_outcome_count', 'changed_outcome_count',
    ],
    rates={
        'positive_rate_pct': ['positive_count', 'assigned_outcome_count'],
        'charge_summons_rate_pct': ['charge_summons_count', 'assigned_outcome_count'],
        'headline_rate_pct': ['positive_count', 'charge_summons_count', 'assigned_outcome_count'],
        'diversion_share_pct': ['diversion_count', 'assigned_outcome_count'],
        'evidential_difficulties_share_pct': [
            'evidential_difficulties_count', 'assigned_outcome_count',
        ],
        'outcome_14_share_pct': ['outcome_14_count', 'assigned_outcome_count'],
        'outcome_15_share_pct': ['outcome_15_count', 'assigned_outcome_count'],
        'outcome_16_share_pct': ['outcome_16_count', 'assigned_outcome_count'],
    },
    row_totals=[
        ['assigned_outcome_count', [
            'positive_count', 'diversion_count', 'evidential_difficulties_count',
            'other_outcome_count',
        ]],
        ['evidential_difficulties_count', [
            'outcome_14_count', 'outcome_15_count', 'outcome_16_count',
        ]],
    ],
    trailing_columns=['outcomes_as_of_date', 'data_as_of_date'],
) }}

select * from published
