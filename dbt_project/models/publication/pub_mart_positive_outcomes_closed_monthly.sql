{#-
    Measure 2, closed basis, for publication: complete months with the history the closed basis
    needs, small numbers suppressed (int_published_table_cells_suppressed; the rows, cells and
    equations: macro publication_table_specs).
-#}
with

{{ published_from_cells(
    'pub_mart_positive_outcomes_closed_monthly',
    passthrough_columns=[
        'category_label', 'local_authority_name', 'division_name', 'financial_year',
        'headline_rate',
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
    trailing_columns=['outcomes_as_of_date', 'data_as_of_date'],
) }}

select * from published
