"""Generator registry. Importing this package imports every module in it, and each module's
``@register_generator`` adds its class: adding a generator is one new file (plus its tests).

Modules are imported without any try/except: a broken generator fails loudly at import instead of
silently vanishing from the catalogue.

Generators of your own, in modules outside this package: name them in ``SYNTHLAB_PLUGINS``
(comma-separated importable modules, each registering with ``@register_generator``). They are imported
here, so the app, the CLI and every run's worker process see the same catalogue.
"""
import importlib
import os
import pkgutil

from .base import Generator, get_generator, list_generators, register_generator, unregister_generator

_INFRA = {"base", "nets", "gan_core"}
for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _mod not in _INFRA and not _mod.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod}")

for _plugin in filter(None, (m.strip() for m in os.environ.get("SYNTHLAB_PLUGINS", "").split(","))):
    try:
        importlib.import_module(_plugin)
    except ImportError as _exc:
        from ..errors import ConfigError
        raise ConfigError(f"SYNTHLAB_PLUGINS names {_plugin!r}, which cannot be imported: {_exc}") from _exc

__all__ = ["Generator", "get_generator", "list_generators", "register_generator", "unregister_generator"]
