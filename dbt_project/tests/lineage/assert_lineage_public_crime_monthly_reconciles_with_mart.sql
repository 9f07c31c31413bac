-- lineage_public_crime_monthly has every crime counted in mart_public_crime_monthly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_public_crime_monthly',
    'lineage_public_crime_monthly',
    ['month_start_date', 'force_code', 'geography_key', 'crime_type', 'outcome_category'],
    'crime_count',
    'int_policeuk_crimes_deduplicated'
) }}
