"""Fine-tuning: tokenise and mask, pack, train (one process or torchrun), checkpoint, phases.

``taxolab.config`` is imported first because its schema imports this package's
settings; entering through a training module (as torchrun workers do) would
otherwise meet a half-initialised config package.
"""

import taxolab.config  # noqa: F401
