"""Read checkpoints without the objects that wrote them: ``load_checkpoint``, ``list_variables``, ``load_variable``,
and ``CheckpointView`` / ``TrackableView`` for the object trees of checkpoints and programs.

Keys are the checkpoint's paths (``model/dense/kernel``); a directory means its latest checkpoint.

>>> import os, tempfile
>>> import featherflow as tf
>>> path = tf.train.Checkpoint(w=tf.Variable([1.0, 2.0])).write(os.path.join(tempfile.mkdtemp(), "c"))
>>> tf.train.list_variables(path)
[('save_counter', []), ('w', [2])]
>>> tf.train.load_variable(path, "w")
array([1., 2.], dtype=float32)
"""

from __future__ import annotations

import os

import numpy as np

from featherflow.train.checkpoint import children, read_checkpoint
from featherflow.train.checkpoint_management import latest_checkpoint


def _checkpoint_path(ckpt_dir_or_file) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}")
        return found
    return path


class CheckpointReader:
    """The tensors of one checkpoint, by key."""

    def __init__(self, save_path):
        self._values = read_checkpoint(save_path)

    def has_tensor(self, key: str) -> bool:
        return key in self._values

    def get_tensor(self, key: str) -> np.ndarray:
        """A copy of the tensor stored under ``key``."""
        if key not in self._values:
            raise ValueError(f"Key {key} not found in checkpoint")
        return np.array(self._values[key], copy=True)

    def get_variable_to_shape_map(self) -> dict:
        return {key: list(value.shape) for key, value in self._values.items()}

    def get_variable_to_dtype_map(self) -> dict:
        return {key: value.dtype for key, value in self._values.items()}


def load_checkpoint(ckpt_dir_or_file) -> CheckpointReader:
    """A ``CheckpointReader`` of a checkpoint (or of a directory's latest checkpoint)."""
    return CheckpointReader(_checkpoint_path(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file) -> list:
    """``[(key, shape), ...]`` of a checkpoint, sorted by key."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(key, shapes[key]) for key in sorted(shapes)]


def load_variable(ckpt_dir_or_file, name: str) -> np.ndarray:
    """The value stored under ``name`` (a trailing ``:0`` is ignored)."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


class CheckpointView:
    """The object tree stored in a checkpoint: node 0 is the root, each path component a node.

    ``children(node_id)`` gives ``{name: node_id}``, ``descendants()`` every node id, and ``match(obj)``
    ``{node_id: object}`` for the objects of a program tree found at the same names.
    """

    def __init__(self, save_path):
        keys = sorted(read_checkpoint(_checkpoint_path(save_path)))
        self._children: list = [{}]
        for key in keys:
            node = 0
            for part in key.split("/"):
                kids = self._children[node]
                if part not in kids:
                    kids[part] = len(self._children)
                    self._children.append({})
                node = kids[part]

    def children(self, node_id: int) -> dict:
        return dict(self._children[node_id])

    def descendants(self) -> list:
        return list(range(len(self._children)))

    def match(self, obj) -> dict:
        matched = {0: obj}
        stack = [(0, obj)]
        while stack:
            node, current = stack.pop()
            try:
                kids = children(current)
            except (AttributeError, TypeError):
                continue
            lookup = {}
            for name, child in kids.items():  # program names may hold "/": split them like the keys
                parent = lookup
                parts = name.split("/")
                for part in parts[:-1]:
                    parent = parent.setdefault(part, {})
                parent[parts[-1]] = child
            self._match_into(node, lookup, matched, stack)
        return matched

    def _match_into(self, node, lookup, matched, stack) -> None:
        for name, child_id in self._children[node].items():
            if name not in lookup:
                continue
            value = lookup[name]
            if isinstance(value, dict):
                self._match_into(child_id, value, matched, stack)
            else:
                matched[child_id] = value
                stack.append((child_id, value))


class TrackableView:
    """The object tree of a program from ``root``: ``children(obj)`` and ``descendants()``."""

    def __init__(self, root):
        self.root = root

    @staticmethod
    def children(obj) -> dict:
        return children(obj)

    def descendants(self) -> list:
        out, seen, stack = [], set(), [self.root]
        while stack:
            obj = stack.pop(0)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            out.append(obj)
            stack.extend(children(obj).values())
        return out
