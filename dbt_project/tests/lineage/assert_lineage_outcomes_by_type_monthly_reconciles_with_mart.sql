-- lineage_outcomes_by_type_monthly has every crime counted in mart_outcomes_by_type_monthly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_outcomes_by_type_monthly',
    'lineage_outcomes_by_type_monthly',
    ['month_start_date', 'local_authority_code', 'reporting_category', 'outcome_code'],
    'crime_count',
    'fct_recorded_crime'
) }}
