{#-
    The suppression flags of pub_mart_positive_outcomes_closed_monthly for BI tools, by the keys
    of bi_positive_outcomes_closed_monthly (its figures): one flag per published figure, true
    where the cell shows [c] (macros/bi.sql).
-#}
{{
    bi_view(
        ref('pub_mart_positive_outcomes_closed_monthly'),
        part='flags',
        keys=[
            'month_start_date',
            'local_authority_code',
            'reporting_category',
        ]
    )
}}
