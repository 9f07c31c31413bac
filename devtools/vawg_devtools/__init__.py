"""Development tools of the VAWG warehouse, outside the shipped wheel: the synthetic sample
generator (``sample``), the benchmarks (``bench``) and the demo (``demo``).

Installed in the development environment (a uv workspace member in the ``dev`` dependency
group); production code never imports it. The ``vawg sample``, ``vawg bench`` and ``vawg demo``
commands import it when they run and say so when it is absent.
"""
