"""clothret: clothing image retrieval research components for PyTorch Lightning.

Components (backbones, heads, losses, miners, modules, datamodules, samplers, callbacks, loggers
and search indexes) are registered by name and built from composed YAML configs; see
:mod:`clothret.registry` and :mod:`clothret.config`.
"""

__version__ = "0.1.0"
