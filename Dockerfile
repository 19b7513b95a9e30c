# loadgate in a container: the package installed as `make demo` installs it, run as a non-root user.
#   docker build -t loadgate:0.1.0 .
#   docker run --rm loadgate:0.1.0 run /opt/loadgate/examples/seed/browse.py -t 20s
# Kubernetes manifests that use it: deploy/kubernetes/ (README, "Running on Kubernetes").
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Every dependency has a manylinux wheel for x86-64, so no compiler is needed.
RUN --mount=type=bind,from=wheel,source=/wheels,target=/wheels \
    python -m pip install /wheels/*.whl
COPY examples /opt/loadgate/examples

# A fixed numeric uid, so that Kubernetes' runAsNonRoot can check it.
RUN groupadd --gid 10001 loadgate \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin loadgate
USER 10001:10001
WORKDIR /home/loadgate

# Locust's master port: `loadgate worker`s connect to a `loadgate run --master` here.
EXPOSE 5557
ENTRYPOINT ["loadgate"]
CMD ["--help"]
