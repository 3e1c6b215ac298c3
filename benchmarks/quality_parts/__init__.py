"""Parts of the real-photo quality benchmark (``benchmarks/quality.py``)."""
