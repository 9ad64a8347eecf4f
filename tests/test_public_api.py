import subprocess
import sys

import pointwise


def test_public_names_are_exported():
    assert set(pointwise.__all__) >= {
        "PointwiseConv2D",
        "RunSpec",
        "make_run_spec",
        "PointwiseError",
        "InvalidSpecError",
        "VARIANTS",
        "WorkerError",
        "JobTimeoutError",
        "JobCancelledError",
        "WorkerCrashedError",
        "ImportRejectedError",
        "StoreError",
        "__version__",
    }
    for name in pointwise.__all__:
        assert hasattr(pointwise, name), name


def test_importing_pointwise_and_app_does_not_import_tensorflow():
    code = (
        "import sys; import pointwise, pointwise.jobs, pointwise.store, pointwise.charts, pointwise.frames, "
        "pointwise.sweep, pointwise.stats; import app; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("conftest").ROOT))


def test_pointwise_conv2d_is_lazily_exported():
    from pointwise.layers import PointwiseConv2D

    assert pointwise.PointwiseConv2D is PointwiseConv2D


def test_library_never_imports_streamlit():
    for path in (__import__("conftest").ROOT / "pointwise").glob("*.py"):
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path
