"""``first_claim``: a marker file that exactly one of several racing processes gets to create."""

import os


def first_claim(path: str) -> bool:
    """Create ``path`` atomically; True for the one caller that created it, False for every later one.

    >>> import tempfile
    >>> marker = os.path.join(tempfile.mkdtemp(), "m")
    >>> first_claim(marker), first_claim(marker)
    (True, False)
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True
