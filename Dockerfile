# syntax=docker/dockerfile:1
# One image for every Python component of Sluice (api, processors, spider workers, demo sites,
# the CLI), started by its own command, e.g. `sluice api` or `sluice process --group archiver`;
# and, as the target `airflow`, the official Airflow image with Sluice's code and plugins.

ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11

# --- build: wheels for the pinned requirements and Sluice itself -----------------------------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY requirements.txt constraints.txt ./
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt -c constraints.txt
COPY pyproject.toml README.md ./
COPY sluice ./sluice
COPY spiders ./spiders
COPY processors ./processors
COPY plugins ./plugins
COPY api ./api
COPY demo ./demo
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- runtime: no compilers, no pip cache, not root --------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SLUICE_PROJECT_DIR=/app \
    SLUICE_STACK_DIR=/tmp/sluice \
    SCRAPY_SETTINGS_MODULE=spiders.settings
# Debian's Chromium renders JavaScript pages for scrapy-playwright (SLUICE_CHROMIUM points it at
# /usr/bin/chromium, so Playwright downloads no browser), with fonts that lay pages out as a
# desktop browser would. No versions: Debian replaces them with each security update, and a
# pinned one would break the build once it leaves the archive.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 sluice \
    && useradd --system --uid 10001 --gid sluice --home-dir /app --shell /usr/sbin/nologin sluice
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels /wheels/*.whl \
    && rm -rf /wheels
# Migrations, the Scrapy project file and the DAGs travel with the image; data does not.
COPY --chown=sluice:sluice pyproject.toml scrapy.cfg ./
COPY --chown=sluice:sluice sql ./sql
COPY --chown=sluice:sluice dags ./dags
USER 10001:10001
EXPOSE 5000 8000
ENTRYPOINT ["sluice"]
CMD ["api"]

# --- airflow: the official image plus Sluice's code, plugins and DAGs -------------------------
FROM ${AIRFLOW_IMAGE} AS airflow
COPY --from=build --chown=airflow:0 /wheels /tmp/wheels
COPY --chown=airflow:0 constraints.txt /tmp/constraints.txt
# The official image installs as its own user. Sluice's wheel goes in without its dependencies:
# they, and every provider and library the plugins, the DAGs and the sluice package import
# (tests/unit/deploy/test_image_contents.py derives them from the imports), are named below and
# pinned by constraints.txt, the versions the tests run against. Airflow is named at the
# image's own version, so a constraints.txt resolved for another one stops the build instead
# of replacing the image's Airflow.
RUN pip install --no-cache-dir --no-deps /tmp/wheels/sluice-*.whl \
    && pip install --no-cache-dir --constraint /tmp/constraints.txt \
        "apache-airflow==${AIRFLOW_VERSION}" \
        apache-airflow-providers-apache-kafka apache-airflow-providers-postgres \
        apache-airflow-providers-mongo apache-airflow-providers-redis \
        apache-airflow-providers-amazon apache-airflow-providers-fab \
        apache-airflow-providers-common-messaging apache-airflow-providers-git \
        scrapy scrapy-redis scrapy-playwright extruct \
        confluent-kafka aws-msk-iam-sasl-signer-python boto3 \
        redis sqlalchemy "psycopg[binary]" pymongo \
        marshmallow flask-smorest prometheus-client statsd \
        click python-dotenv psutil supervisor \
    && rm -rf /tmp/wheels /tmp/constraints.txt
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 sql /opt/airflow/sql
ENV SLUICE_PROJECT_DIR=/opt/airflow
