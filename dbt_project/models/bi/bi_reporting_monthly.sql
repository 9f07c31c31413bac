{#- Measure 1 (reporting of domestic abuse and sexual violence) for BI tools: pub_mart_reporting_monthly with display names (macros/bi.sql). -#}
{{ bi_view(ref('pub_mart_reporting_monthly')) }}
