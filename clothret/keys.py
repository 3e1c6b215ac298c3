"""Names of the keys in a batch dict and in a model's output dict (DESIGN §1).

Batches and outputs are plain dicts; these constants are the only contract between datamodules,
modules, heads, losses and callbacks.
"""

from __future__ import annotations

# --- batch keys -------------------------------------------------------------------------------
IMAGE = "image"  # float tensor [B, 3, H, W]
ITEM_ID = "item_id"  # long tensor [B]: the product identity, relevance at item level
CATEGORY = "category"  # long tensor [B]: category id from the training vocabulary
ATTRIBUTES = "attributes"  # dict task -> float tensor [B, M_t], multi-hot; -1 marks a missing label
DOMAIN = "domain"  # long tensor [B]: 0 = shop, 1 = consumer (street)
INDEX = "index"  # long tensor [B]: row of the sample in its dataset, to undo DDP padding
IS_QUERY = "is_query"  # bool tensor [B]: evaluation role, query (True) or gallery (False)

# --- output keys ------------------------------------------------------------------------------
FEATURES = "features"  # backbone's pooled features [B, D]
FEATURE_MAPS = "feature_maps"  # list of intermediate backbone maps [B, C_i, H_i, W_i]
EMBEDDING = "embedding"  # retrieval embedding [B, E]
HASH = "hash"  # continuous hash-layer activations [B, bits] (sigmoid in [0,1] or tanh in [-1,1])
CODES = "codes"  # binarised hash codes in {0, 1}, bool [B, bits]
CATEGORY_LOGITS = "category_logits"  # [B, num_categories]
ATTRIBUTE_LOGITS = "attribute_logits"  # dict task -> [B, M_t]

DOMAIN_SHOP = 0
DOMAIN_CONSUMER = 1
