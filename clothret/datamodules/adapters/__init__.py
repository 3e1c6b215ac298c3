"""Dataset adapters: each published dataset format read into the manifest (DESIGN §5).

Each module holds a pure reader ``read_<format>(root, ...) -> pandas.DataFrame`` and a thin
registered :class:`~clothret.datamodules.base.ManifestDataModule` subclass calling it. Importing
this package registers them all in the ``datamodule`` group.
"""

from clothret.datamodules.adapters import (
    clothing_photos,
    cross_domain,
    deepfashion_consumer2shop,
    deepfashion_inshop,
    fashion_product,
    street2shop,
)

__all__ = [
    "clothing_photos",
    "cross_domain",
    "deepfashion_consumer2shop",
    "deepfashion_inshop",
    "fashion_product",
    "street2shop",
]
