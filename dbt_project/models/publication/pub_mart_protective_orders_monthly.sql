{#-
    Measure 5 for publication: complete months only, small numbers suppressed
    (int_published_table_cells_suppressed; the rows, cells and equations: macro
    publication_table_specs).
-#}
with

{{ published_from_cells(
    'pub_mart_protective_orders_monthly',
    passthrough_columns=[
        'local_authority_name', 'division_name', 'order_type_name', 'order_category',
        'financial_year', 'is_pilot_only',
    ],
    rates={
        'conversion_rate_pct': ['notices_converted', 'notices_issued'],
    },
    trailing_columns=['data_as_of_date'],
) }}

select * from published
