{#- Context (the home force beside its most similar forces and England and Wales, public data) for BI tools: mart_peer_comparison_yearly with display names (macros/bi.sql). -#}
{{ bi_view(ref('mart_peer_comparison_yearly')) }}
