-- lineage_peer_comparison_yearly has every row summed in mart_peer_comparison_yearly: the offences agree row by row.
{{ lineage_reconciles(
    'mart_peer_comparison_yearly',
    'lineage_peer_comparison_yearly',
    ['financial_year', 'area_name', 'reporting_category'],
    'offence_count',
    'int_home_office_recorded_crimes_deduplicated',
    lineage_count='sum(offence_count)'
) }}
