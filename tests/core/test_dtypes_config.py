"""tf.dtypes, tf.config (devices and options), tf.test and tf.version."""

import numpy as np
import pytest

import featherflow as ff


def test_dtypes():
    assert ff.as_dtype("float") == ff.float32 and ff.as_dtype("double") == ff.float64 and ff.as_dtype(3) == ff.int32
    assert ff.as_dtype(float) == ff.float32 and ff.as_dtype(bool) == ff.bool and ff.as_dtype(np.int16) == ff.int16
    with pytest.raises(TypeError, match="to a TensorFlow DType"):
        ff.as_dtype("foo")
    assert isinstance(ff.float32, ff.DType) and ff.dtypes.half == ff.float16 and ff.dtypes.complex128.itemsize == 16
    assert ff.qint8 == np.dtype([("qint8", "i1")]) and ff.qint8 in ff.dtypes.QUANTIZED_DTYPES
    assert ff.saturate_cast([-300.0, 300.0], "int8").numpy().tolist() == [-128, 127]
    assert ff.saturate_cast(ff.constant([3e19, -3e19], "float64"), "int64").numpy()[1] == np.iinfo(np.int64).min
    assert ff.saturate_cast(ff.constant([300, -5]), "uint8").numpy().tolist() == [255, 0]
    assert ff.dtypes.cast([1.7], "int32").numpy().tolist() == [1]


def test_config_devices_and_options():
    cpu = ff.config.list_physical_devices("CPU")
    assert cpu == [ff.config.PhysicalDevice("/physical_device:CPU:0", "CPU")]
    assert ff.config.list_physical_devices("GPU") == [] or ff.test.is_gpu_available()
    assert ff.config.list_logical_devices("CPU")[0].name == "/device:CPU:0"
    ff.config.set_logical_device_configuration(cpu[0], [ff.config.LogicalDeviceConfiguration()] * 2)
    try:
        assert [d.name for d in ff.config.list_logical_devices("CPU")] == ["/device:CPU:0", "/device:CPU:1"]
        assert len(ff.config.get_logical_device_configuration(cpu[0])) == 2
    finally:
        ff.config.set_logical_device_configuration(cpu[0], None)
    with pytest.raises(ValueError, match="non-GPU"):
        ff.config.experimental.set_memory_growth(cpu[0], True)
    info = ff.config.experimental.get_memory_info("CPU:0")
    assert info["current"] > 0 and info["peak"] >= info["current"]
    with pytest.raises(ValueError, match="Unknown device"):
        ff.config.experimental.get_memory_info("TPU:0")
    assert ff.config.get_soft_device_placement() is True
    ff.config.run_functions_eagerly(True)
    assert ff.config.functions_run_eagerly() is True
    ff.config.run_functions_eagerly(False)
    ff.config.optimizer.set_jit(True)
    assert ff.config.optimizer.get_jit() == "autoclustering"
    ff.config.optimizer.set_jit(False)
    assert ff.config.optimizer.get_jit() == ""


def test_test_helpers_and_version():
    theoretical, numerical = ff.test.compute_gradient(lambda x: ff.sin(x) * x, [ff.constant([0.5, 1.0], "float64")])
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-8)
    np.testing.assert_allclose(np.diag(theoretical[0]), np.cos([0.5, 1.0]) * [0.5, 1.0] + np.sin([0.5, 1.0]))

    class Case(ff.test.TestCase):
        def runTest(self):  # noqa: N802
            self.assertAllClose(ff.constant([1.0]), [1.0])
            self.assertAllEqual(self.evaluate(ff.constant([2])), [2])
            self.assertAllInRange(ff.constant([0.5]), 0.0, 1.0)

    result = Case().run()
    assert result.wasSuccessful()
    assert ff.version.VERSION == ff.__version__
