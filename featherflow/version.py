"""``featherflow.version``: TensorFlow's ``tf.version`` (the featherflow version, and the Python compiler).

>>> import featherflow as ff
>>> ff.version.VERSION == ff.__version__
True
"""

import platform as _platform

from featherflow._version import __version__ as VERSION  # noqa: F401,N812

GIT_VERSION = f"v{VERSION}"
COMPILER_VERSION = _platform.python_compiler()
