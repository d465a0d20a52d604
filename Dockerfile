# One image for the gateway and the backend; the command picks the service.
# Stage 1 builds the wheel (dashboards, firmware sources and migrations are package data);
# stage 2 installs only that wheel, with the pinned versions of constraints.txt.
FROM python:3.11.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY common ./common
COPY contract ./contract
COPY history ./history
COPY werkplek ./werkplek
COPY gateway ./gateway
COPY backend ./backend
COPY dashboards ./dashboards
# Only the firmware's modules: per-device files (Wi-Fi and MQTT passwords) never enter an image.
COPY firmware/*.py ./firmware/
RUN pip wheel --no-cache-dir --no-deps -w /dist .

FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY constraints.txt /tmp/constraints.txt
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir -c /tmp/constraints.txt /tmp/dist/werkplek-*.whl \
    && rm -rf /tmp/dist /tmp/constraints.txt \
    && useradd --system --home /var/lib/werkplek werkplek \
    && mkdir -p /var/lib/werkplek && chown werkplek /var/lib/werkplek
USER werkplek
WORKDIR /var/lib/werkplek
EXPOSE 8000
CMD ["werkplek", "backend"]
