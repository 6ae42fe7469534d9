"""Dataset registry. Importing this package registers every built-in dataset."""
from .base import KINDS, Dataset, DatasetInfo, dataset_info, list_datasets, load_dataset, register_dataset
from . import images, tabular_sets, toy2d  # noqa: F401  (registration side effect, explicit: a broken module fails loudly)
from . import drawn, user_data  # noqa: F401  (register their resolvers: uploads and drawings saved before a restart)

__all__ = ["KINDS", "Dataset", "DatasetInfo", "dataset_info", "list_datasets", "load_dataset", "register_dataset"]
