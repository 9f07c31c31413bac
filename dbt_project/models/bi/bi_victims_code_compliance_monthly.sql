{#- Measure 4 (compliance with the Victims' Code) for BI tools: pub_mart_victims_code_compliance_monthly with display names (macros/bi.sql). -#}
{{ bi_view(ref('pub_mart_victims_code_compliance_monthly')) }}
