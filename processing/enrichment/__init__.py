"""Cloud enrichment of a finished result, in the host process.

The offline providers (pattern recognisers, language detection, spaCy) run in
the pipeline, inside the sandboxed worker. The cloud providers need
credentials and the network, which workers do not get, so they run here after
extraction: :mod:`processing.enrichment.service` windows the text, calls the
providers through small ports (:mod:`processing.enrichment.ports`) and merges
what they return into the result. Only the adapter modules
(:mod:`processing.enrichment.azure_language`, :mod:`processing.enrichment.openai_summary`)
import an SDK, and only when a provider is configured.
"""
