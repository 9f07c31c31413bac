{#-
    Measure 4 for publication: small numbers suppressed (macros/suppression.sql). Two
    groupings: the local authorities of a month and right add up to the force figure; the rights
    of a month and local authority add up to its right 0 row (all rights together), which is a
    cell of that group like the others.
-#}
with recursive

mart as (

    -- Complete months only: every right due in them measured. met_late_count and
    -- overdue_without_status_count stay in the mart (with not_met_count they would reveal
    -- the rest of it, a cell no table publishes).
    select * from {{ ref('mart_victims_code_compliance_monthly') }}
    where is_complete_period

),

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

{{ suppression_ctes(
    source_cte='mart',
    key_columns=['month_start_date', 'local_authority_code', 'right_number'],
    group_columns=[
        ['month_start_date', 'right_number'],
        ['month_start_date', 'local_authority_code'],
    ],
    passthrough_columns=[
        'right_label', 'local_authority_name', 'division_name', 'financial_year',
    ],
    count_columns=['met_count', 'not_met_count', 'applicable_count', 'not_applicable_count'],
    rates={
        'compliance_rate_pct': ['met_count', 'applicable_count'],
    },
    row_totals=[
        ['applicable_count', ['met_count', 'not_met_count']],
    ],
    trailing_columns=['data_as_of_date', 'measured_through_date'],
) }}

select * from published
