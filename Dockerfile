# Pointwise Lab as a container: usable as a Hugging Face Space (Docker SDK) or on any container host.
# CPU-only TensorFlow is the default wheel on PyPI for Linux x86-64 without CUDA extras.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    POINTWISE_DB=/data/runs.sqlite3 \
    POINTWISE_DEMO=1

RUN useradd --create-home --uid 1000 app && mkdir -p /data && chown app:app /data
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-compile -r requirements.txt
COPY --chown=app:app app.py pyproject.toml ./
COPY --chown=app:app .streamlit ./.streamlit
COPY --chown=app:app pointwise ./pointwise
COPY --chown=app:app pages ./pages

USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"
# The app with its default worker warming up as the server starts (see pointwise/ui/serve.py).
CMD ["python", "-m", "pointwise.ui.serve", "--server.port=8501", "--server.address=0.0.0.0"]
