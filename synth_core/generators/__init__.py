"""Generator registry. Importing this package registers every generator.

Modules are imported explicitly: a broken generator fails loudly instead of silently vanishing.
"""
from .base import Generator, get_generator, list_generators, register_generator
from . import gaussian, dcgan  # noqa: F401  (registration side effect)

__all__ = ["Generator", "get_generator", "list_generators", "register_generator"]
