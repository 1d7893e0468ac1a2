# The image of `mergeml serve` holding one pulled model (.github/workflows/deploy.yml builds
# it on a stage assignment). Build it from a checkout after
#   mergeml pull STAGE --out build/model   (or --rev REV)
#   docker build -t NAME:VERSION .
# The base is pinned by tag: resolve it to a digest (`docker buildx imagetools inspect
# python:3.11-slim`) and pin `python:3.11-slim@sha256:...` where builds must be repeatable.
FROM python:3.11-slim

# One BLAS/OpenMP thread per worker process (scikit-learn #30662); no .pyc, no buffering;
# slim has no git and serving needs none (GIT_PYTHON_REFRESH); the prediction log on a
# local directory unless MERGEML_PREDICTION_LOG names an object-store URL at `docker run`.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    VECLIB_MAXIMUM_THREADS=1 \
    NUMEXPR_NUM_THREADS=1 \
    DVC_NO_ANALYTICS=1 \
    GIT_PYTHON_REFRESH=quiet \
    MERGEML_PREDICTION_LOG=/var/lib/mergeml/predictions \
    PATH=/opt/venv/bin:$PATH

WORKDIR /opt/mergeml

# Every third-party package hash-checked, as `make install-runtime` installs them: pip
# installs uv from its lock, uv the runtime lock; then mergeml itself, without dependencies.
COPY requirements-uv.lock requirements.lock ./
RUN python -m venv /opt/venv \
    && pip install --require-hashes --no-deps -r requirements-uv.lock \
    && uv pip install --python /opt/venv/bin/python --no-cache --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN uv pip install --python /opt/venv/bin/python --no-cache --no-deps --no-build-isolation .

WORKDIR /srv
# The model and its manifest; the build fails here unless the model matches the manifest's
# md5, holds only trusted types and was saved by this image's scikit-learn.
COPY build/model /srv/model
RUN ["mergeml", "verify-model", "/srv/model"]

RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mergeml \
    && mkdir -p /var/lib/mergeml/predictions \
    && chown -R 10001 /var/lib/mergeml
USER 10001

EXPOSE 8080
# slim has no curl: ask the readiness endpoint with Python's urllib (a 503 raises).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/v2/health/ready', timeout=4)"]
CMD ["mergeml", "serve", "--model", "/srv/model", "--host", "0.0.0.0", "--port", "8080"]
