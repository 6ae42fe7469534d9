"""Generator registry. Importing this package imports every module in it, and each module's
``@register_generator`` adds its class: adding a generator is one new file (plus its tests).

Modules are imported without any try/except: a broken generator fails loudly at import instead of
silently vanishing from the catalogue.
"""
import importlib
import pkgutil

from .base import Generator, get_generator, list_generators, register_generator, unregister_generator

_INFRA = {"base", "nets", "gan_core"}
for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _mod not in _INFRA and not _mod.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod}")

__all__ = ["Generator", "get_generator", "list_generators", "register_generator", "unregister_generator"]
