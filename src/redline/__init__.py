"""redline: test, gate, guard and watch AI models.

``import redline`` is cheap: it loads no torch, no HTTP client and no database driver.
The parts are imported on first use::

    from redline.targets import resolve_target
"""

from redline._version import __version__
from redline.errors import RedlineError
from redline.types import Completion, GenerateParams, Message

__all__ = ["Completion", "GenerateParams", "Message", "RedlineError", "__version__"]
