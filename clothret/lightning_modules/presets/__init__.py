"""One registered preset of :class:`RetrievalModule` per published method (defaults only)."""
