{#- Dimension (the home force's local authorities) for BI tools: dim_geography with display names (macros/bi.sql). -#}
{{ bi_view(ref('dim_geography')) }}
