-- lineage_protective_orders_monthly has every order event in mart_protective_orders_monthly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_protective_orders_monthly',
    'lineage_protective_orders_monthly',
    ['month_start_date', 'local_authority_code', 'order_type'],
    'notices_issued + applications + orders_granted + orders_refused + applications_withdrawn + breaches',
    'fct_protective_order_event'
) }}
