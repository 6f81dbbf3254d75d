"""Development tools: never deployed, never imported by the product.

``devhost`` is the local Functions + Event Grid host (``make run``), ``bench``
the benchmarks (``make bench``), ``fuzz`` the fuzzer (``make fuzz``) and
``standins`` loopback servers that speak the REST contracts of Azure services
that cannot run here (AI Search, AI Language, OpenAI-compatible endpoints).
"""
