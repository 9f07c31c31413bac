-- lineage_marac_repeat_monthly has every case heard in mart_marac_repeat_monthly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_marac_repeat_monthly',
    'lineage_marac_repeat_monthly',
    ['month_start_date', 'local_authority_code'],
    'cases_heard',
    'fct_marac_case'
) }}
