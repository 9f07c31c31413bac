-- lineage_cps_outcomes_quarterly has figures for every row that has figures, and none for a row without in mart_cps_outcomes_quarterly: the counts agree row by row.
{{ lineage_reconciles(
    'mart_cps_outcomes_quarterly',
    'lineage_cps_outcomes_quarterly',
    ['quarter_start_date', 'reporting_category'],
    'case when has_figures then 1 else 0 end',
    'fct_cps_outcome',
    lineage_count='least(sum(fact_row_count), 1)'
) }}
