{#- Measure 3 (repeat victims of domestic abuse heard at MARAC) for BI tools: pub_mart_marac_repeat_monthly with display names (macros/bi.sql). -#}
{{ bi_view(ref('pub_mart_marac_repeat_monthly')) }}
