-- lineage_positive_outcomes_closed_monthly has every crime counted in mart_positive_outcomes_closed_monthly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_positive_outcomes_closed_monthly',
    'lineage_positive_outcomes_closed_monthly',
    ['month_start_date', 'local_authority_code', 'reporting_category'],
    'assigned_outcome_count',
    'fct_recorded_crime'
) }}
