{#- Measure 2 (outcome types of the recorded-month cohort) for BI tools: pub_mart_outcomes_by_type_monthly with display names (macros/bi.sql). -#}
{{ bi_view(ref('pub_mart_outcomes_by_type_monthly')) }}
