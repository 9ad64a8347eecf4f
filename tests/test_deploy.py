"""Deployment files and security invariants that a refactor could silently break."""

import re
import tomllib

from conftest import ROOT

SOURCES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "pointwise").rglob("*.py"))]


def test_production_streamlit_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["headless"] is True
    assert config["server"]["fileWatcherType"] == "none"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] <= 20
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"


def test_dockerfile_runs_as_non_root_with_healthcheck():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", dockerfile, re.M)
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and user[-1] not in ("root", "0")
    assert "HEALTHCHECK" in dockerfile and "/_stcore/health" in dockerfile
    assert "EXPOSE 8501" in dockerfile and "POINTWISE_DEMO=1" in dockerfile


def test_requirements_pin_compatible_ranges():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[a-z0-9_\-\[\]]+>=[\d.]+,<[\d.]+", line), line


def test_no_visitor_input_is_evaluated_or_unpickled():
    for path in SOURCES:
        text = path.read_text()
        # Builtins only: a name that merely ends in "eval" (jax.ensure_compile_time_eval) evaluates no text.
        for forbidden in (
            r"(?<![\w.])eval\(",
            r"(?<![\w.])exec\(",
            "pickle",
            "shell=True",
            r"__import__\(",
            r"yaml\.load\(",
        ):
            assert not re.search(forbidden, text), f"{forbidden} in {path.name}"


def test_file_paths_come_from_configuration_not_visitors():
    # Only the store opens files by path, and its path comes from POINTWISE_DB or the default; uploads are read
    # from memory (getvalue) and never written to disk.
    for path in SOURCES:
        text = path.read_text()
        if path != ROOT / "pointwise" / "store" / "db.py":
            assert "sqlite3.connect" not in text, path.name
        assert not re.search(r"open\(\s*(upload|st\.)", text), path.name
    pages = "".join(p.read_text() for p in (ROOT / "pages").glob("*.py"))
    assert ".getvalue()" in pages
    # A file's name is visitor text: it may be shown (escaped), never used as a path.
    assert pages.count("upload.name") == pages.count("escape_markdown(upload.name"), "an unescaped upload.name"


def test_the_readme_the_container_and_the_browser_tests_start_the_app_the_same_way():
    # The command that warms the worker as the server starts; a bare `streamlit run app.py` would warm it later.
    readme_commands = (ROOT / "README.md").read_text().split("```bash", 1)[1].split("```", 1)[0]
    assert "&& python -m pointwise.ui.serve\n" in readme_commands
    assert 'CMD ["python", "-m", "pointwise.ui.serve",' in (ROOT / "Dockerfile").read_text()
    assert '["-m", "pointwise.ui.serve"]' in (ROOT / "tests" / "browser_support.py").read_text()
