"""Generated sample data: synthetic clothing items with identity, category and attributes.

``generate_sample_data(out_dir)`` writes about a thousand shop and consumer images of 160
synthetic garments, their masks and a ``manifest.csv`` in the DESIGN §5 format. It is the
package's own demo and test dataset; nothing is downloaded.
"""

from clothret.sample_data.generator import generate_sample_data
from clothret.sample_data.output import COLUMNS, GENERATOR_VERSION
from clothret.sample_data.vocab import ATTRIBUTE_VALUES, CATEGORIES

__all__ = [
    "ATTRIBUTE_VALUES",
    "CATEGORIES",
    "COLUMNS",
    "GENERATOR_VERSION",
    "generate_sample_data",
]
