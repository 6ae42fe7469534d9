"""The words tables are described with: column types, the missing level, how booleans are written.

A leaf module (it imports nothing of ``synth_core``): the encoder, the column descriptors, the
conditional sampler and the pages all read these from here, so they can never disagree.
"""
from __future__ import annotations

#: every column type a schema can give a column
COLUMN_TYPES = ("continuous", "integer", "categorical", "boolean", "datetime")
#: types encoded as numbers (datetimes as seconds since 1970)
NUMERIC_TYPES = ("continuous", "integer", "datetime")
#: types encoded as one-hot blocks (decoded by argmax)
DISCRETE_TYPES = ("categorical", "boolean")
#: numeric encodings; "mode" = CTGAN mode-specific normalisation
ENCODINGS = ("quantile", "mode")

#: display name of the missing level (and the suffix of its encoded column, ``<name>=<missing>``)
MISSING = "<missing>"
#: how a person may write the missing level in a condition (lower-cased, stripped)
MISSING_WORDS = frozenset({MISSING, "", "nan", "none", "null", "na"})
#: how a file or a person writes true and false (lower-cased, stripped)
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})
BOOL_WORDS = TRUE_WORDS | FALSE_WORDS
