{#-
    Measure 3 for publication: small numbers suppressed (int_published_table_cells_suppressed;
    the rows, cells and equations: macro publication_table_specs). Complete months with the 12
    months of look-back a repeat needs; the others are withheld. The rolling twelve-month
    figures stay in the mart: each sums twelve months of cells, so it would tie every month to
    the eleven before it.
-#}
with

{{ published_from_cells(
    'pub_mart_marac_repeat_monthly',
    passthrough_columns=[
        'local_authority_name', 'division_name', 'financial_year', 'population_women',
        'population_reference_year', 'repeat_window_months',
    ],
    rates={
        'repeat_rate_pct': ['repeat_cases', 'cases_heard'],
        'cases_per_10000_women': ['cases_heard'],
    },
    trailing_columns=['data_as_of_date'],
) }}

select * from published
