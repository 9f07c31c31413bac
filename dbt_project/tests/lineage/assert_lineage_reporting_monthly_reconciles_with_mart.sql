-- lineage_reporting_monthly has every crime counted in mart_reporting_monthly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_reporting_monthly',
    'lineage_reporting_monthly',
    ['month_start_date', 'local_authority_code', 'reporting_category'],
    'crime_count',
    'fct_recorded_crime'
) }}
