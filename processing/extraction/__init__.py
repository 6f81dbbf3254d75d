"""The extraction core: a document's bytes in, a structured result out.

Pure: nothing in this package imports Azure, ``azure.functions`` or any other
package of the app (an import contract in ``pyproject.toml``), so it runs the
same in the function app, in isolated worker processes and as a command-line
tool (``python -m processing``). Importing it is cheap: the parsing libraries
load on first use. The entry point is :func:`processing.extraction.pipeline.run_pipeline`.
"""
