"""htlm's fairseq plugin: task `htlm_denoising`, model `htlm` (archs `htlm_tiny|base|large`), safe loading.

Importing the package registers all of them with fairseq and allow-lists the globals of
fairseq checkpoints for `torch.load(weights_only=True)`. fairseq's `--user-dir` imports this
folder as a module named after it (`model`); every registration lives in the `htlm.model.*`
submodules, which Python imports once, so using `--user-dir` and `import htlm.model` in the
same process registers nothing twice.
"""

from htlm.model import architectures, task  # noqa: F401  (registers the task, model and archs)
from htlm.model.checkpoints import allow_fairseq_checkpoints
from htlm.model.loading import LoadedModel, load, user_dir

allow_fairseq_checkpoints()

__all__ = ["LoadedModel", "load", "user_dir"]
