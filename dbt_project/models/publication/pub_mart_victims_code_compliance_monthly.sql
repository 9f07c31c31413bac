{#-
    Measure 4 for publication: complete months only (every right due in them measured), small
    numbers suppressed (int_published_table_cells_suppressed; the rows, cells and equations:
    macro publication_table_specs). Two groupings: the local authorities of a month and right
    add up to the force figure; the rights of a month and local authority add up to its right 0
    row (all rights together). met_late_count and overdue_without_status_count stay in the mart
    (with not_met_count they would reveal the rest of it, a cell no table publishes).
-#}
with

{{ published_from_cells(
    'pub_mart_victims_code_compliance_monthly',
    passthrough_columns=[
        'right_label', 'local_authority_name', 'division_name', 'financial_year',
    ],
    rates={
        'compliance_rate_pct': ['met_count', 'applicable_count'],
    },
    trailing_columns=['data_as_of_date', 'measured_through_date'],
) }}

select * from published
