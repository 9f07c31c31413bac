-- lineage_victim_services_quarterly has every area return in mart_victim_services_quarterly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_victim_services_quarterly',
    'lineage_victim_services_quarterly',
    ['financial_year', 'financial_quarter', 'service_code'],
    'areas_reported',
    'fct_service_return'
) }}
