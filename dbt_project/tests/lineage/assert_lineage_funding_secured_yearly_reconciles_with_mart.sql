-- lineage_funding_secured_yearly has every grant in mart_funding_secured_yearly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_funding_secured_yearly',
    'lineage_funding_secured_yearly',
    ['financial_year', 'funder_name', 'scheme_name'],
    'grant_count',
    'fct_grant'
) }}
