{#- Dimension (local authorities of Lancashire) for BI tools: dim_geography with display names (macros/bi.sql). -#}
{{ bi_view(ref('dim_geography')) }}
