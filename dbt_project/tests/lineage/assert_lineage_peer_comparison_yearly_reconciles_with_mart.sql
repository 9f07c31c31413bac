-- lineage_peer_comparison_yearly has every row summed in mart_peer_comparison_yearly: the offences agree row by row
-- (a category not available in a year's tables has a null count and no rows behind it).
{{ lineage_reconciles(
    'mart_peer_comparison_yearly',
    'lineage_peer_comparison_yearly',
    ['financial_year', 'area_name', 'reporting_category'],
    'coalesce(offence_count, 0)',
    'int_home_office_recorded_crimes_deduplicated',
    lineage_count='sum(offence_count)'
) }}
