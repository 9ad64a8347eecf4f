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


def test_jobs_package_exports_its_public_names():
    import pointwise.jobs

    assert set(pointwise.jobs.__all__) == {
        "Computed",
        "EventCallback",
        "ResultCache",
        "WorkerKnobs",
        "WorkerPool",
        "benchmark_and_cache",
        "cached_benchmark",
        "check_cached",
        "check_in_cache",
        "default_pool",
        "kernels_cached",
        "list_devices",
        "run_benchmark",
        "run_ceilings",
        "run_check",
        "run_lesson_forms",
        "tune_pointwise",
    }
    for name in pointwise.jobs.__all__:
        assert hasattr(pointwise.jobs, name), name


def test_importing_pointwise_and_app_does_not_import_tensorflow():
    code = (
        "import sys; import pointwise, pointwise.jobs, pointwise.store, pointwise.charts, pointwise.frames, "
        "pointwise.sweep, pointwise.stats, pointwise.protocol, pointwise.worker, pointwise.worker.environment, "
        "pointwise.worker.runtime; import app; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'\n"
        "import importlib; [sys.modules.pop(m) for m in list(sys.modules) if m.split('.')[0] in "
        "('pointwise', 'app', 'plotly', 'scipy')]; importlib.import_module('app')\n"
        # Home imports the router: plotly and scipy (~1 s here) must wait for the pages that draw charts.
        "assert 'plotly' not in sys.modules and 'scipy' not in sys.modules, 'charts imported by the router'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("conftest").ROOT))


def test_pointwise_conv2d_is_lazily_exported():
    from pointwise.layers import PointwiseConv2D

    assert pointwise.PointwiseConv2D is PointwiseConv2D


def test_library_never_imports_streamlit():
    library = __import__("conftest").ROOT / "pointwise"
    # pointwise/ui/ is the Streamlit side (the pages' helpers); every other module, subpackages included, is not.
    for path in (p for p in library.rglob("*.py") if p.relative_to(library).parts[0] != "ui"):
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path


def test_the_cli_and_its_tables_need_no_chart_library():
    # Measured on a GPU machine without plotly: `bench --kernels` failed importing the chart module for a table.
    code = (
        "import sys; import pointwise.cli, pointwise.frames, pointwise.cli_model, pointwise.cli_tune; "
        "assert 'plotly' not in sys.modules, 'the CLI imported plotly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
