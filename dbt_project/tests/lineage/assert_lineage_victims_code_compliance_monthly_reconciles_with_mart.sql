-- lineage_victims_code_compliance_monthly has every record due in mart_victims_code_compliance_monthly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_victims_code_compliance_monthly',
    'lineage_victims_code_compliance_monthly',
    ['month_start_date', 'local_authority_code', 'right_number'],
    'met_count + not_met_count + not_applicable_count',
    'fct_victims_code_right'
) }}
