-- lineage_positive_outcomes_monthly has every crime of the cohort in mart_positive_outcomes_monthly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_positive_outcomes_monthly',
    'lineage_positive_outcomes_monthly',
    ['month_start_date', 'local_authority_code', 'reporting_category'],
    'crime_count',
    'fct_recorded_crime'
) }}
