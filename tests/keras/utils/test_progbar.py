"""Progbar: Keras's text, averaging, plain lines off a terminal, encoding fallback."""

import io
import sys

import numpy as np
import pytest

from featherflow.keras.utils import Progbar, io_utils


class _Terminal(io.StringIO):
    def isatty(self):
        return True


class _AsciiStream(io.StringIO):
    """A console that, like cp1252/ascii ones, cannot encode everything."""

    encoding = "ascii"

    def write(self, text):
        text.encode("ascii")  # raises UnicodeEncodeError like a real ascii console
        return super().write(text)


def test_plain_output_has_final_line_and_no_control_characters(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(5, interval=0.0)
    for step in range(1, 6):
        bar.update(step, [("loss", float(step))])
    text = stream.getvalue()
    assert "\r" not in text and "\b" not in text
    lines = text.splitlines()
    assert len(lines) == 1, lines  # only the finished bar: intermediate lines are throttled to 10 s
    assert lines[0].startswith("5/5 [==============================] - ")
    assert lines[0].endswith(" - loss: 3.0000")  # (1+2+3+4+5)/5
    assert "/step" in lines[0]


def test_plain_intermediate_lines_after_interval(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(4, interval=0.0)
    bar.plain_line_interval = 0.0
    for step in range(1, 5):
        bar.update(step)
    lines = stream.getvalue().splitlines()
    assert [line.split(" ")[0] for line in lines] == ["1/4", "2/4", "3/4", "4/4"]
    assert "ETA:" in lines[0] and "[==============>." in lines[1]
    assert "\r" not in stream.getvalue()


def test_terminal_redraws_in_place(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(3, width=10, interval=0.0)
    bar.update(1, [("acc", 0.5)])
    bar.update(3, [("acc", 1.0)])
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    first, final = text.split("\r")[1], text.split("\r")[2]
    assert first.startswith("1/3 [==>.......] - ETA: ")  # int(10 * 1/3) = 3 cells
    assert final.startswith("3/3 [==========] - ")
    # weights: step 1 counts 1, step 3 counts 3-1=2 -> (0.5*1 + 1.0*2)/3
    assert f" - acc: {2.5 / 3:.4f}" in final


def test_stateful_metrics_and_small_values(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(2, verbose=2, stateful_metrics=["lr"])
    bar.update(1, [("lr", 0.1), ("loss", 2e-4)])
    bar.update(2, [("lr", 0.05), ("loss", 4e-4)])
    line = stream.getvalue()
    assert line.count("\n") == 1
    assert line.startswith("2/2 - ")
    assert " - lr: 0.0500" in line  # last value, not the mean
    assert " - loss: 3.0000e-04" in line
    assert "/epoch - " in line and line.rstrip().endswith("/step")


def test_unknown_target_and_add(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(None, interval=0.0)
    bar.add(3, [("x", np.float32(1.0))])
    bar.add(2)
    assert bar._seen_so_far == 5
    assert "      5/Unknown" in stream.getvalue()


def test_verbose_zero_prints_nothing(capsys):
    bar = Progbar(3, verbose=0)
    for step in range(1, 4):
        bar.update(step, [("loss", 1.0)])
    assert capsys.readouterr().out == ""


def test_unencodable_characters_do_not_crash(monkeypatch):
    stream = _AsciiStream()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(1)
    bar.update(1, [("verlust\u2192\u00e9", 1.0)])
    assert "verlust??: 1.0000" in stream.getvalue()


def test_print_msg_without_stdout(monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)
    io_utils.print_msg("nothing to write to")  # must not raise
    assert not io_utils.is_interactive_stream()


@pytest.mark.parametrize("target", [0, 1, 10, 1000])
def test_bar_widths(target, monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    bar = Progbar(target, width=20, verbose=1)
    text = bar._bar_text(target)
    assert text.endswith("[" + "=" * 20 + "]")
    assert text.startswith(f"{target}/{target} ")
